"""A ticket list too long to stream within a request (a million tickets outlive the worker timeout) is
prepared by a background job: the desk is offered it, the job writes the file, the user is told and
downloads it; only they can; old files are removed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from supportdesk.core import clock
from supportdesk.jobs import engine
from supportdesk.notifications.models import Notification
from supportdesk.reports import background
from supportdesk.reports.models import TicketExport
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_team, make_technician, make_ticket
from tests.reports.test_export import rows_of


@pytest.fixture
def long_list(session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(background, "STREAM_LIMIT", 3)  # "long" from the fourth ticket on
    lead = make_technician(session, full_name="Lena Lead", email="lena@example.com")
    make_technician(session, full_name="Otto Other", email="otto@example.com")
    network = make_team(session, "Network", members=[lead])
    make_requester(session, full_name="Erin Employee")
    for i in range(5):
        make_ticket(session, lead, f"Laptop {i}", team_id=network.id)
    make_ticket(session, lead, "=cmd|' /C calc'!A0", team_id=network.id)
    return {"lead": lead, "network": network}


def prepare(client, query: str) -> str:  # type: ignore[no-untyped-def]
    """Ask for the list's CSV, accept the offer to prepare it; the export's page address."""
    offer = client.get(f"/reports/tickets.csv?{query}")
    assert offer.status_code == 200 and offer.mimetype == "text/html"
    text = page_text(offer)
    assert "more than 3 tickets" in text
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', offer.get_data(as_text=True))
    assert form, "the offer has a form that prepares the file"
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', offer.get_data(as_text=True))
    )
    response = client.post(form.group(1), data=fields)  # the offer carries its CSRF token
    assert response.status_code == 303
    return response.headers["Location"]


def test_a_long_list_is_prepared_in_the_background_and_downloaded(
    clean_app, client, session, long_list
) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    streamed_short = client.get("/reports/tickets.csv?view=open&q=Laptop+1")
    assert streamed_short.is_streamed and len(rows_of(streamed_short)) == 2  # short lists stream as before

    page = prepare(client, "view=open&sort=number")
    waiting = page_text(client.get(page))
    assert "Preparing" in waiting and "Download" not in waiting

    engine.run_queued(clean_app)
    ready = client.get(page)
    assert "6 tickets" in page_text(ready)
    link = re.search(r'href="(/reports/exports/\d+\.csv)"', ready.get_data(as_text=True))
    assert link
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = rows_of(download)
    assert rows[0][:2] == ["Number", "Subject"] and len(rows) == 7
    assert [row[1] for row in rows[1:]] == [f"Laptop {i}" for i in range(5)] + ["'=cmd|' /C calc'!A0"]

    # The user is told in the app, with the way to the file.
    [told] = session.scalars(select(Notification).where(Notification.user_id == long_list["lead"].id)).all()
    assert "export" in told.title.lower() and "6 tickets" in told.title
    opened = client.get(f"/notifications/{told.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(page)


def test_only_the_one_who_asked_gets_the_file(clean_app, client, session, long_list) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    page = prepare(client, "view=open")
    engine.run_queued(clean_app)
    other = clean_app.test_client()
    login(other, "otto@example.com")
    assert other.get(page).status_code == 404
    assert other.get(f"{page}.csv").status_code == 404
    make_admin(session, email="ada@example.com")
    admin = clean_app.test_client()
    login(admin, "ada@example.com")
    assert admin.get(f"{page}.csv").status_code == 404  # not even an admin: it is one person's list


def test_a_requester_cannot_ask_for_an_export(client, session, long_list) -> None:  # type: ignore[no-untyped-def]
    make_requester(session, email="rita@example.com")
    login(client, "rita@example.com")
    response = client.post(
        "/reports/exports", data={"view": "open", **form_token(client, "/account/password")}
    )
    assert response.status_code == 404
    assert session.scalars(select(TicketExport)).all() == []


def test_bad_filters_are_refused_before_anything_is_queued(client, session, long_list) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    response = client.post("/reports/exports", data={"view": "nope", **form_token(client, "/reports/")})
    assert response.status_code == 422
    assert session.scalars(select(TicketExport)).all() == []


def test_files_older_than_a_week_are_removed(clean_app, client, session, long_list) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    page = prepare(client, "view=open")
    engine.run_queued(clean_app)
    [export] = session.scalars(select(TicketExport)).all()
    path = background.file_path(clean_app.config["SUPPORTDESK"], export)
    assert path.exists()
    with clean_app.app_context():  # as the hourly job runs it
        with clock.frozen_at(clock.now() + background.KEPT_FOR - timedelta(minutes=1)):
            assert background.purge_old_exports() == 0
        with clock.frozen_at(clock.now() + background.KEPT_FOR + timedelta(minutes=1)):
            assert background.purge_old_exports() == 1
    assert not path.exists()
    assert client.get(page).status_code == 404
