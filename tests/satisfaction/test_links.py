"""The resolution email's rating link: signed, expiring, bound to the ticket, the resolution and the
requester; one click shows a confirmation, the POST records. Tampered, expired, other ticket, other
resolution, another person signed in: refused, nothing recorded."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from supportdesk.core import clock
from supportdesk.notifications import delivery, watchers
from supportdesk.notifications.models import OutboxMessage
from supportdesk.satisfaction import links, service
from supportdesk.satisfaction.lifecycle import LINK_VALID_FOR
from supportdesk.satisfaction.models import Rating
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import EventKind, TicketEvent
from tests.conftest import csrf_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(session):
    return {
        "erin": make_requester(session, email="erin@example.com", full_name="Erin Employee"),
        "other": make_requester(session, email="olga@example.com", full_name="Olga Other"),
        "tech": make_technician(session, email="sam@example.com", full_name="Sam Okafor"),
    }


def resolve(session, people, subject="VPN drops every hour"):
    ticket = make_ticket(session, people["erin"], subject)
    tickets.transition(session, people["tech"], ticket.number, Status.RESOLVED)
    session.commit()
    return ticket


def resolution_of(session, ticket) -> int:
    return session.scalars(
        select(TicketEvent.id)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.STATUS)
        .order_by(TicketEvent.id.desc())
    ).first()


def count_ratings(session) -> int:
    return session.scalar(select(func.count()).select_from(Rating))


def bodies(message: OutboxMessage) -> tuple[str, str]:
    parsed = email.message_from_string(message.raw, policy=policy.default)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def rating_links_in_mail(session, ticket) -> list[str]:
    message = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.kind == "resolved_rating"
        )
    ).one()
    text, html = bodies(message)
    found = re.findall(r"https?://\S+/rate/[A-Za-z0-9_.\-]+\?score=(?:good|bad)", text)
    assert all(url.replace("&", "&amp;") in html or url in html for url in found)
    return found


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def post_rating(client, path, score="good", comment=""):
    token = csrf_token(client, path)
    url = path.split("?")[0]
    return client.post(url, data={"csrf_token": token, "score": score, "comment": comment})


def test_the_resolution_email_carries_a_good_and_a_bad_link_that_record_after_a_confirm(
    clean_app, client, session, people
):
    ticket = resolve(session, people)
    found = rating_links_in_mail(session, ticket)
    assert [u.rsplit("=", 1)[1] for u in found] == ["good", "bad"]
    bad = path_of(found[1])

    # Opening the link (as a mail scanner would) only shows the confirmation: nothing is recorded.
    page = client.get(bad)
    assert page.status_code == 200
    assert "VPN drops every hour" in page_text(page) and 'value="bad" checked' in page_text(page)
    assert count_ratings(session) == 0

    response = post_rating(client, bad, "bad", "Took three days")
    assert response.status_code == 200, page_text(response)
    assert "Thank you" in page_text(response)
    rating = session.scalars(select(Rating)).one()
    assert (rating.score.value, rating.comment, rating.requester_id) == (
        "bad",
        "Took three days",
        people["erin"].id,
    )
    # The same link changes it within the week.
    post_rating(client, bad, "good", "")
    session.expire_all()
    assert session.scalars(select(Rating)).one().score.value == "good"


def test_a_tampered_token_is_refused(clean_app, client, session, people):
    ticket = resolve(session, people)
    good = path_of(rating_links_in_mail(session, ticket)[0])
    token = good.split("/rate/")[1].split("?")[0]
    flipped = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for forged in (flipped, "not-a-token", "x" * 5000):
        assert client.get(f"/rate/{forged}?score=good").status_code == 400
        response = client.post(
            f"/rate/{forged}", data={"csrf_token": csrf_token(client, "/login"), "score": "good"}
        )
        assert response.status_code == 400
        assert "no longer valid" in page_text(response)
    assert count_ratings(session) == 0


def test_an_expired_token_is_refused(clean_app, client, session, people):
    with clock.frozen_at(MONDAY):
        ticket = resolve(session, people)
        path = path_of(rating_links_in_mail(session, ticket)[0])
    with clock.frozen_at(MONDAY + LINK_VALID_FOR - timedelta(minutes=1)):
        assert client.get(path).status_code == 200
    with clock.frozen_at(MONDAY + LINK_VALID_FOR + timedelta(minutes=1)):
        assert client.get(path).status_code == 400
        assert post_rating(client, "/login", "good").status_code in (200, 302)  # a token for the form
        response = client.post(
            path.split("?")[0], data={"csrf_token": csrf_token(client, "/login"), "score": "good"}
        )
        assert response.status_code == 400
    assert count_ratings(session) == 0


def test_a_token_works_for_its_own_ticket_only(clean_app, session, people):
    first = resolve(session, people, "First")
    second = resolve(session, people, "Second")
    with clean_app.test_request_context():
        forged = links.token_for(second.id, resolution_of(session, first), people["erin"].id)
        with pytest.raises(links.LinkNotValid):
            service.rate_with_link(session, forged, "good", "", signed_in=None)
        other_person = links.token_for(first.id, resolution_of(session, first), people["other"].id)
        with pytest.raises(links.LinkNotValid):
            service.rate_with_link(session, other_person, "good", "", signed_in=None)
    session.rollback()
    assert count_ratings(session) == 0


def test_a_token_of_an_earlier_resolution_is_refused(clean_app, client, session, people):
    ticket = resolve(session, people)
    old = path_of(rating_links_in_mail(session, ticket)[0])
    tickets.transition(session, people["erin"], ticket.number, Status.OPEN)
    session.commit()
    assert client.get(old).status_code == 400  # reopened: nothing to rate
    tickets.transition(session, people["tech"], ticket.number, Status.RESOLVED)
    session.commit()
    assert client.get(old).status_code == 400  # resolved again: the new resolution has its own link
    assert count_ratings(session) == 0


def test_someone_else_signed_in_cannot_use_the_link(clean_app, client, session, people):
    ticket = resolve(session, people)
    path = path_of(rating_links_in_mail(session, ticket)[0])
    for address in ("olga@example.com", "sam@example.com"):
        client.delete_cookie("session")
        login(client, address)
        assert client.get(path).status_code == 403
        response = client.post(
            path.split("?")[0], data={"csrf_token": csrf_token(client, "/portal/"), "score": "good"}
        )
        assert response.status_code == 403
    assert count_ratings(session) == 0


def test_a_bad_score_or_comment_keeps_the_form_with_its_errors(clean_app, client, session, people):
    ticket = resolve(session, people)
    path = path_of(rating_links_in_mail(session, ticket)[0])
    response = post_rating(client, path, "excellent", "y" * 3000)
    assert response.status_code == 422
    body = page_text(response)
    assert "Choose good or bad" in body and "at most" in body
    assert count_ratings(session) == 0
    assert client.get(path.split("?")[0] + "?score=%F0%9F%92%A9").status_code == 200  # unknown: none chosen


def test_watchers_copied_on_the_resolution_get_no_rating_link(clean_app, session, people):
    ticket = make_ticket(session, people["erin"], "Shared printer")
    with clean_app.app_context():
        watchers.add_watcher(session, people["tech"], ticket.number, "olga@example.com")
        watchers.add_watcher(session, people["tech"], ticket.number, "sam@example.com")
        session.commit()
    tickets.transition(
        session, make_technician(session, email="tom@example.com"), ticket.number, Status.RESOLVED
    )
    session.commit()
    resolved = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind.in_(["resolved", "resolved_rating"]))
    ).all()
    assert sorted(m.recipients for m in resolved) == [
        "erin@example.com",
        "olga@example.com",
        "sam@example.com",
    ]
    assert [m.recipients for m in resolved if "/rate/" in bodies(m)[0]] == ["erin@example.com"]
    # Only the requester's copy holds the links: it is the one kept only until a relay has it.
    assert [m.recipients for m in resolved if m.kind == "resolved_rating"] == ["erin@example.com"]
    assert "resolved_rating" in delivery.SENSITIVE_KINDS
