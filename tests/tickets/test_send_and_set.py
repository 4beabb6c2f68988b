"""Reply and set the status in one action, then perhaps the next ticket of the queue view."""

import pytest
from sqlalchemy import func, select

from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, Ticket
from tests.conftest import form_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket


@pytest.fixture
def desk(session):
    tech = make_technician(session)
    alice = make_requester(session)
    older = make_ticket(session, alice, subject="Older").number
    newer = make_ticket(session, alice, subject="Newer").number
    return {"tech": tech, "older": older, "newer": newer}


def status(session, number):
    session.expire_all()
    return session.scalar(select(Ticket.status).where(Ticket.number == number))


def reply(client, number, **data):
    url = f"/desk/tickets/{number}"
    return client.post(f"{url}/reply", data={**form_token(client, url), "visibility": "public", **data})


def test_the_reply_and_the_status_change_are_one_unit(client, session, desk):
    login(client, desk["tech"].email)
    done = reply(client, desk["newer"], body="Fixed", then_status="resolved")
    assert done.status_code == 302 and status(session, desk["newer"]) is Status.RESOLVED
    bad = reply(client, desk["older"], body="Hm", then_status="closed")
    assert bad.status_code == 422 and status(session, desk["older"]) is Status.NEW
    # A move the life cycle refuses keeps the reply back too (resolved -> pending is not allowed).
    refused = reply(client, desk["newer"], body="More", then_status="pending")
    assert refused.status_code == 422 and "cannot go from" in page_text(refused)
    assert session.scalar(select(func.count()).select_from(Comment)) == 1


def test_send_and_open_next_follows_the_view(client, session, desk):
    login(client, desk["tech"].email)
    onward = reply(
        client, desk["newer"], body="On it", then_status="pending", then_next="y", queue="unassigned"
    )
    assert onward.headers["Location"].endswith(f"/desk/tickets/{desk['older']}?from=unassigned")
    # The older ticket, resolved, leaves the view: next is the top of the view.
    last = reply(
        client, desk["older"], body="Done", then_status="resolved", then_next="y", queue="unassigned"
    )
    assert last.headers["Location"].endswith(f"/desk/tickets/{desk['newer']}?from=unassigned")
    ignored = reply(client, desk["newer"], body="x", then_next="y", queue="no-such-view")
    assert ignored.status_code == 302 and ignored.headers["Location"].endswith("#conversation")
