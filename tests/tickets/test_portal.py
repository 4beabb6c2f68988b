"""The requester's pages, through the test client, asserting on what the requester sees."""

import io

import pytest
from sqlalchemy import select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Ticket
from tests.conftest import form_token, login, page_text
from tests.factories import make_category, make_requester, make_team, make_technician, make_ticket
from tests.html_safety import assert_inert, assert_page_inert
from tests.test_query_counts import counting


@pytest.fixture
def people(session):
    return {
        "alice": make_requester(session, full_name="Alice Archer"),
        "bob": make_requester(session, full_name="Bob Baker"),
        "tech": make_technician(session, full_name="Tess Tech"),
    }


def test_new_ticket_page_labels_every_control_and_offers_no_urgent(client, session, people):
    make_category(session, "VPN & remote access")
    login(client, people["alice"].email)
    page = page_text(client.get("/portal/new"))
    for control in ("subject", "category", "priority", "description", "attachments"):
        assert f'for="{control}"' in page and f'id="{control}"' in page
    assert "VPN &amp; remote access" in page
    assert 'value="urgent"' not in page and 'value="high"' in page


def test_raising_a_ticket_with_attachments(client, session, people):
    network = make_team(session, "Network")
    vpn = make_category(session, "VPN", team=network)
    login(client, people["alice"].email)
    data = {
        **form_token(client, "/portal/new"),
        "subject": "VPN drops",
        "description": "**Every** 5 minutes",
        "category": str(vpn.id),
        "priority": "high",
        "attachments": [
            (io.BytesIO(b"log line"), "vpn.log"),
            (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 40), "shot.png"),
        ],
    }
    response = client.post("/portal/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    ticket = session.scalars(select(Ticket)).one()
    assert response.headers["Location"] == f"/portal/tickets/{ticket.number}"
    assert (ticket.team_id, ticket.priority.value) == (network.id, "high")
    page = page_text(client.get(response.headers["Location"]))
    assert f"Ticket {ticket.reference} is raised" in page
    assert "<strong>Every</strong> 5 minutes" in page
    assert "vpn.log" in page and "shot.png" in page and "Waiting for a technician" in page


def test_bad_input_is_shown_beside_the_field(client, session, people):
    login(client, people["alice"].email)
    token = form_token(client, "/portal/new")
    response = client.post("/portal/new", data={**token, "subject": "  ", "priority": "normal"})
    assert response.status_code == 422
    assert "This field is required." in page_text(response)
    urgent = client.post("/portal/new", data={**token, "subject": "Help", "priority": "urgent"})
    assert urgent.status_code == 422 and "Not a valid choice" in page_text(urgent)
    too_long = client.post("/portal/new", data={**token, "subject": "x" * 201, "priority": "normal"})
    assert too_long.status_code == 422
    assert session.scalars(select(Ticket)).all() == []


def test_upload_limits_are_form_errors(client, session, people, clean_app):
    login(client, people["alice"].email)
    data = {
        **form_token(client, "/portal/new"),
        "subject": "Big",
        "priority": "normal",
        "attachments": [(io.BytesIO(b""), "empty.txt")],
    }
    response = client.post("/portal/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "empty.txt is empty" in page_text(response)


def test_similar_tickets_come_only_from_the_requesters_own(client, session, people):
    make_ticket(session, people["alice"], subject="Printer jams on floor 3")
    make_ticket(session, people["bob"], subject="Printer secret salary list")
    login(client, people["alice"].email)
    page = page_text(client.get("/portal/similar?subject=printer not working"))
    assert "Is it one of these?" in page and "Printer jams on floor 3" in page
    assert "salary" not in page
    assert page_text(client.get("/portal/similar?subject=zz")).strip() == ""


def test_ticket_page_shows_public_replies_never_internal_notes(client, session, people):
    ticket = make_ticket(session, people["alice"], subject="Laptop slow")
    service.add_comment(session, people["tech"], ticket.number, "Please restart it tonight.")
    session.commit()
    service.add_comment(session, people["tech"], ticket.number, "User is on the layoff list", internal=True)
    session.commit()
    login(client, people["alice"].email)
    page = page_text(client.get(f"/portal/tickets/{ticket.number}"))
    assert "Please restart it tonight." in page and "Tess Tech" in page
    assert "layoff" not in page and "Internal note" not in page


def test_another_requesters_ticket_is_not_found(client, session, people):
    ticket = make_ticket(session, people["bob"], subject="Bob's private problem")
    login(client, people["alice"].email)
    for response in (
        client.get(f"/portal/tickets/{ticket.number}"),
        client.post(
            f"/portal/tickets/{ticket.number}/reply", data={**form_token(client, "/portal/new"), "body": "hi"}
        ),
        client.post(f"/portal/tickets/{ticket.number}/close", data=form_token(client, "/portal/new")),
    ):
        assert response.status_code == 404
        assert "private problem" not in page_text(response)
    session.expire_all()
    assert session.get(Ticket, ticket.id).status is Status.NEW


def test_reply_close_and_reopen(client, session, people):
    ticket = make_ticket(session, people["alice"])
    service.transition(session, people["tech"], ticket.number, Status.PENDING)
    session.commit()
    login(client, people["alice"].email)
    url = f"/portal/tickets/{ticket.number}"
    response = client.post(f"{url}/reply", data={**form_token(client, url), "body": "It happened again"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Ticket, ticket.id).status is Status.OPEN
    empty = client.post(f"{url}/reply", data={**form_token(client, url), "body": ""})
    assert empty.status_code == 422 and "Write a message first." in page_text(empty)
    client.post(f"{url}/close", data=form_token(client, url))
    page = page_text(client.get(url))
    assert "the ticket is closed" in page and "Reopen ticket" in page and "Send reply" not in page
    client.post(f"{url}/reopen", data=form_token(client, url))
    assert "The ticket is open again." in page_text(client.get(url))


def test_reopen_after_the_window_says_to_raise_a_new_ticket(client, session, people):
    from datetime import timedelta

    from supportdesk.core import clock

    ticket = make_ticket(session, people["alice"])
    with clock.frozen_at(clock.now() - timedelta(days=40)):
        service.transition(session, people["alice"], ticket.number, Status.CLOSED)
        session.commit()
    login(client, people["alice"].email)
    url = f"/portal/tickets/{ticket.number}"
    client.post(f"{url}/reopen", data=form_token(client, url))
    assert "please raise a new ticket instead" in page_text(client.get(url))


def test_status_buttons_need_a_csrf_token(client, session, people):
    ticket = make_ticket(session, people["alice"])
    login(client, people["alice"].email)
    assert client.post(f"/portal/tickets/{ticket.number}/close").status_code == 400


def test_my_tickets_search_finds_words_in_replies(client, session, people):
    ticket = make_ticket(session, people["alice"], subject="Outlook problem")
    make_ticket(session, people["alice"], subject="Monitor flicker")
    service.add_comment(session, people["tech"], ticket.number, "Cleared the credential manager cache")
    session.commit()
    login(client, people["alice"].email)
    page = page_text(client.get("/portal/?q=credential"))
    assert "Outlook problem" in page and "Monitor flicker" not in page
    assert "No open tickets match" in page_text(client.get("/portal/?q=nothingmatches"))


def test_staff_opening_a_portal_ticket_go_to_the_desk_view(client, session, people):
    ticket = make_ticket(session, people["alice"])
    login(client, people["tech"].email)
    assert (
        client.get(f"/portal/tickets/{ticket.number}").headers["Location"] == f"/desk/tickets/{ticket.number}"
    )


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<svg onload=alert(1)>",
    ],
)
def test_ticket_text_renders_inert_everywhere_the_requester_sees_it(client, session, people, payload):
    ticket = make_ticket(session, people["alice"], subject=f"Subject {payload}", description=payload)
    service.add_comment(session, people["tech"], ticket.number, payload)
    session.commit()
    login(client, people["alice"].email)
    for url in ("/portal/", f"/portal/tickets/{ticket.number}", f"/portal/similar?subject=subject {payload}"):
        assert_page_inert(page_text(client.get(url)))
    preview = client.post("/preview", data={**form_token(client, "/portal/new"), "description": payload})
    assert_inert(page_text(preview))


def test_preview_renders_markdown_for_signed_in_users_only(client, session, people):
    assert client.post("/preview", data={"description": "**x**"}).status_code in (302, 400)
    login(client, people["alice"].email)
    token = form_token(client, "/portal/new")
    assert "<strong>x</strong>" in page_text(client.post("/preview", data={**token, "description": "**x**"}))
    assert "Nothing to preview" in page_text(client.post("/preview", data={**token, "description": " "}))


def test_raising_a_ticket_does_not_read_the_category_list(clean_app, client, people):
    """The list of categories is for showing the form; a submitted one is checked by the service."""
    login(client, people["alice"].email)
    data = {**form_token(client, "/portal/new"), "subject": "Printer jam", "priority": "normal"}
    with counting(clean_app) as statements:
        assert client.post("/portal/new", data=data).status_code == 302
    assert not [s for s in statements if "FROM categories" in s]


def test_a_retired_or_unknown_category_is_refused_beside_its_field(client, session, people):
    retired = make_category(session, "Fax machines")
    retired.is_active = False
    session.commit()
    login(client, people["alice"].email)
    for category in (str(retired.id), "424242"):
        data = {**form_token(client, "/portal/new"), "subject": "Fax", "priority": "normal"}
        response = client.post("/portal/new", data={**data, "category": category})
        assert response.status_code == 422
        assert "no active category has this id" in page_text(response)
    assert session.scalars(select(Ticket)).all() == []
