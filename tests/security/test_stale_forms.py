"""A form refused by the CSRF check keeps what was typed and says what to do, and never becomes a way
for another site to write on a user's behalf."""

from sqlalchemy import func, select

from supportdesk.tickets.models import Comment, Draft
from tests.conftest import login, page_text
from tests.factories import make_requester, make_technician, make_ticket


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_stale_reply_from_our_own_page_becomes_a_draft(client, session):
    tech = make_technician(session)
    number = make_ticket(session, make_requester(session)).number
    login(client, tech.email)
    own = {"Origin": "http://localhost", "Referer": f"http://localhost/desk/tickets/{number}"}
    response = client.post(
        f"/desk/tickets/{number}/reply",
        data={"body": "Kept for later", "visibility": "internal", "csrf_token": "stale"},
        headers=own,
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/desk/tickets/{number}#reply"
    )
    assert count(session, Draft) == 1 and count(session, Comment) == 0
    page = page_text(client.get(f"/desk/tickets/{number}"))
    assert "your reply was not sent" in page and "Kept for later</textarea>" in page


def test_a_stale_form_from_another_site_writes_nothing_and_only_shows_the_text(client, session):
    tech = make_technician(session)
    number = make_ticket(session, make_requester(session)).number
    login(client, tech.email)
    response = client.post(
        f"/desk/tickets/{number}/reply",
        data={"body": "<script>alert(1)</script>", "visibility": "public"},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
    )
    assert response.status_code == 400
    page = page_text(response)
    assert (
        "Not sent: the page had expired" in page
        and "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page
    )
    assert 'href="/"' in page  # back to our start page, not to the other site
    assert count(session, Draft) == 0 and count(session, Comment) == 0


def test_a_stale_sign_in_never_shows_the_password(client, session):
    response = client.post("/login", data={"email": "a@example.com", "password": "hunter2-secret"})
    assert response.status_code == 400
    page = page_text(response)
    assert "nothing was saved" in page and "hunter2-secret" not in page and "What you typed" not in page
