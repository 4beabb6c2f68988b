"""Two people on one ticket: a public reply waits while its writer has not seen a colleague's."""

import pytest
from sqlalchemy import func, select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, Draft, TicketEvent
from tests.conftest import form_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket


@pytest.fixture
def desk(session):
    tech, other = make_technician(session, full_name="Tess Tech"), make_technician(session, full_name="Olly")
    alice = make_requester(session, full_name="Alice")
    ticket = make_ticket(session, alice, subject="Wifi drops")
    return {"tech": tech, "other": other, "alice": alice, "number": ticket.number}


def last_event(session) -> int:
    return session.scalar(select(func.max(TicketEvent.id)))


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_reply_waits_for_news_it_has_not_seen(session, desk):
    seen = last_event(session)
    service.add_comment(session, desk["tech"], desk["number"], "Mine does not count", internal=False)
    session.commit()
    service.add_comment(session, desk["other"], desk["number"], "A note is not news", internal=True)
    session.commit()
    service.add_comment(session, desk["tech"], desk["number"], "Still fine", seen_event=seen)
    session.commit()
    service.add_comment(session, desk["alice"], desk["number"], "Any news?")
    session.commit()
    with pytest.raises(service.NewsSinceSeen):
        service.add_comment(session, desk["tech"], desk["number"], "Held back", seen_event=seen)
    session.rollback()
    # An internal note never waits, and neither does a reply sent anyway (no seen_event).
    service.add_comment(session, desk["tech"], desk["number"], "Note", internal=True, seen_event=seen)
    service.add_comment(session, desk["tech"], desk["number"], "Sent anyway")
    session.commit()


def test_a_status_change_by_anyone_else_is_news(session, desk):
    seen = last_event(session)
    service.transition(session, desk["other"], desk["number"], Status.PENDING)
    session.commit()
    with pytest.raises(service.NewsSinceSeen):
        service.add_comment(session, desk["tech"], desk["number"], "Held back", seen_event=seen)


def test_the_held_reply_is_kept_as_a_draft_and_shown_again(client, session, desk):
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{desk['number']}"
    token = form_token(client, url)
    seen = last_event(session)
    service.add_comment(session, desk["other"], desk["number"], "I **fixed** it")
    session.commit()
    response = client.post(
        f"{url}/reply", data={**token, "body": "Try this", "visibility": "public", "seen": str(seen)}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}?since={seen}#reply")
    assert count(session, Draft) == 1 and count(session, Comment) == 1
    page = page_text(client.get(f"{url}?since={seen}"))
    assert "While you were writing" in page and "I **fixed** it" in page and "Try this</textarea>" in page
    anyway = client.post(
        f"{url}/reply",
        data={**token, "body": "Try this", "visibility": "public", "seen": str(seen), "send_anyway": "1"},
    )
    assert anyway.status_code == 302 and count(session, Comment) == 2 and count(session, Draft) == 0
