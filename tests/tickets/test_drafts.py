"""Drafts: what a user typed and has not sent is kept per user and ticket, and only its writer reads it."""

import pytest
from sqlalchemy import func, select

from supportdesk.tickets import service
from supportdesk.tickets.models import COMMENT_MAX, Draft
from tests.conftest import form_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket


@pytest.fixture
def desk(session):
    tech, other = make_technician(session), make_technician(session)
    alice = make_requester(session)
    ticket = make_ticket(session, alice, subject="Screen flickers")
    return {"tech": tech, "other": other, "alice": alice, "number": ticket.number}


def drafts(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Draft))


def save(client, number, **data):
    url = f"/desk/tickets/{number}"
    token = form_token(client, url)["csrf_token"]
    return client.post(f"{url}/draft", data=data, headers={"X-CSRFToken": token})


def test_a_draft_comes_back_on_the_page_for_its_writer_only(client, session, desk):
    login(client, desk["tech"].email)
    assert (
        save(client, desk["number"], body="Try the <b>other</b> cable", visibility="internal").status_code
        == 204
    )
    assert (
        save(
            client, desk["number"], body="Try the <b>other</b> cable, then", visibility="internal"
        ).status_code
        == 204
    )
    assert drafts(session) == 1
    page = page_text(client.get(f"/desk/tickets/{desk['number']}"))
    assert "Try the &lt;b&gt;other&lt;/b&gt; cable, then</textarea>" in page
    assert 'id="visibility-internal" value="internal" checked' in page
    client.delete_cookie("session")
    login(client, desk["other"].email)
    assert "Try the" not in page_text(client.get(f"/desk/tickets/{desk['number']}"))


def test_sending_the_reply_or_emptying_the_box_removes_the_draft(client, session, desk):
    login(client, desk["tech"].email)
    save(client, desk["number"], body="Half", visibility="public")
    save(client, desk["number"], body="   ", visibility="public")
    assert drafts(session) == 0
    save(client, desk["number"], body="Whole answer", visibility="public")
    service.add_comment(session, desk["other"], desk["number"], "Someone else's reply")
    session.commit()
    assert drafts(session) == 1  # another user's reply leaves my draft alone
    service.add_comment(session, desk["tech"], desk["number"], "Whole answer")
    session.commit()
    assert drafts(session) == 0


def test_refused_drafts_keep_nothing(client, session, desk):
    login(client, desk["tech"].email)
    assert save(client, desk["number"], body="x" * (COMMENT_MAX + 1)).status_code == 422
    assert save(client, desk["number"], body="x", visibility="shouted").status_code == 422
    assert save(client, 999_999, body="x").status_code == 404
    assert drafts(session) == 0


def test_a_draft_needs_the_csrf_header(client, session, desk):
    login(client, desk["tech"].email)
    client.get(f"/desk/tickets/{desk['number']}")
    assert client.post(f"/desk/tickets/{desk['number']}/draft", data={"body": "x"}).status_code == 400
    assert drafts(session) == 0
