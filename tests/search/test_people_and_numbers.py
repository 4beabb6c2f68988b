"""The desk's search also finds tickets by their requester's name or address, and by number; the top
bar's search page jumps to a number and searches every status unless a view narrows it."""

import pytest

from supportdesk.tickets import reads, service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.paging import TicketFilters
from tests.conftest import login, page_text
from tests.factories import make_requester, make_technician, make_ticket


def found(session, actor, text):
    return {t.number for t in reads.list_tickets(session, actor, TicketFilters(text=text)).items}


@pytest.fixture
def desk(session):
    erin = make_requester(session, full_name="Erin O'Neil", email="erin.oneil@example.com")
    bob = make_requester(session, full_name="Bob Builder", email="bob_b@example.org")
    tech = make_technician(session, full_name="Tess Tech")
    printer = make_ticket(session, erin, subject="Printer jams")
    laptop = make_ticket(session, bob, subject="Laptop is slow", description="Ask Erin about it.")
    service.transition(session, tech, printer.number, Status.CLOSED)
    session.commit()
    return {"erin": erin, "bob": bob, "tech": tech, "printer": printer.number, "laptop": laptop.number}


def test_the_desk_finds_tickets_by_the_requesters_name_or_address(session, desk):
    tech = desk["tech"]
    assert found(session, tech, "erin") == {desk["printer"], desk["laptop"]}  # her name, and words
    assert found(session, tech, "oneil") == set()  # a name word starts with "o'neil", not "oneil"
    assert found(session, tech, "erin.oneil@example.com") == {desk["printer"]}
    assert found(session, tech, "ERIN.ONEIL@") == {desk["printer"]}
    assert found(session, tech, "bob_b@example.org") == {desk["laptop"]}
    assert found(session, tech, "builder") == {desk["laptop"]}


def test_like_wildcards_in_a_search_are_plain_characters(session, desk):
    tech = desk["tech"]
    assert found(session, tech, "%@") == set()
    assert found(session, tech, "_@") == set()
    assert found(session, tech, "bob_") == {desk["laptop"]}  # the underscore in his address itself


def test_requesters_do_not_find_tickets_by_other_peoples_names(session, desk):
    assert found(session, desk["bob"], "erin") == {desk["laptop"]}  # the word in his own ticket only
    assert found(session, desk["erin"], "bob") == set()


def test_the_search_page_jumps_to_a_number_and_falls_back_to_words(client, session, desk):
    login(client, desk["tech"].email)
    jump = client.get(f"/desk/search?q=%23{desk['printer']}")
    assert jump.status_code == 302 and jump.headers["Location"].endswith(f"/desk/tickets/{desk['printer']}")
    missing = client.get("/desk/search?q=999999")
    assert missing.status_code == 200 and "No tickets match “999999”" in page_text(missing)
    closed = page_text(client.get("/desk/search?q=printer"))
    assert "Printer jams" in closed and "Every ticket, any status" in closed
    in_view = page_text(client.get("/desk/search?q=printer&view=open"))
    assert "Printer jams" not in in_view and "Remove filter: All open" in in_view
    assert client.get("/desk/search?view=nope&q=x").status_code == 422
    assert "Type a ticket number" in page_text(client.get("/desk/search"))


def test_requesters_cannot_use_the_desk_search(client, desk):
    login(client, desk["erin"].email)
    assert client.get("/desk/search?q=printer").status_code == 404
    assert 'id="sd-topsearch-q"' not in page_text(client.get("/portal/"))
