"""Who else has a ticket open: only the desk, only others, only pages still beating."""

from datetime import timedelta

import pytest

from supportdesk.core import clock
from supportdesk.core.errors import NotFound
from supportdesk.tickets import presence
from tests.conftest import form_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket


@pytest.fixture
def desk(session):
    alice = make_requester(session, full_name="Alice")
    return {
        "tess": make_technician(session, full_name="Tess Tech"),
        "olly": make_technician(session, full_name="Olly Other"),
        "alice": alice,
        "number": make_ticket(session, alice).number,
    }


def beat(session, who, number, *, typing=False, leaving=False):
    others = presence.beat(session, who, number, typing=typing, leaving=leaving)
    session.commit()
    return [(p.name, p.typing) for p in others]


def test_others_viewing_and_typing_and_leaving(session, desk, monkeypatch):
    n = desk["number"]
    assert beat(session, desk["tess"], n) == []
    assert beat(session, desk["olly"], n, typing=True) == [("Tess Tech", False)]
    assert beat(session, desk["tess"], n) == [("Olly Other", True)]
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + presence.TYPING_WITHIN + timedelta(seconds=1))
    beat(session, desk["olly"], n)
    assert beat(session, desk["tess"], n) == [("Olly Other", False)]  # stopped typing a while ago
    monkeypatch.setattr(clock, "now", lambda: start + presence.GONE_AFTER * 3)
    assert beat(session, desk["tess"], n) == []  # Olly's page went quiet
    beat(session, desk["olly"], n)
    beat(session, desk["olly"], n, leaving=True)
    assert beat(session, desk["tess"], n) == []


def test_requesters_have_no_presence(session, desk):
    with pytest.raises(NotFound):
        presence.beat(session, desk["alice"], desk["number"], typing=False, leaving=False)


def test_the_heartbeat_answers_a_fragment(client, session, desk):
    beat(session, desk["olly"], desk["number"], typing=True)
    login(client, desk["tess"].email)
    url = f"/desk/tickets/{desk['number']}"
    token = form_token(client, url)["csrf_token"]
    response = client.post(f"{url}/presence", data={"typing": ""}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and "Olly Other is typing" in page_text(response)
    assert client.post("/desk/tickets/999999/presence", headers={"X-CSRFToken": token}).status_code == 404
