"""Email answers to a ticket merged into another (issue 21, US-91), through the real IMAP server: when
the ticket it went into is the sender's too, the answer is added there (no duplicate comes back); when
it is someone else's, the sender gets a follow-up ticket of their own, as for any closed ticket."""

from __future__ import annotations

from supportdesk.core.db import unit_of_work
from supportdesk.tickets import merging
from tests.factories import make_requester, make_technician, make_ticket
from tests.inbound.conftest import write_mail
from tests.inbound.test_fetching import comments, poll, tickets


def test_an_answer_to_a_merged_ticket_goes_to_the_requesters_own_survivor(
    imap_app, session, mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com")
    tess = make_technician(session, email="tess@example.com")
    with imap_app.app_context():
        survivor = make_ticket(session, erin, subject="Laptop fan loud")
        duplicate = make_ticket(session, erin, subject="Laptop noisy")
        with unit_of_work(session):
            merging.merge_ticket(session, tess, duplicate.number, survivor.number)
    mailbox.deliver(
        write_mail("erin@example.com", f"Re: [#{duplicate.number}] Laptop noisy", "Louder today.")
    )
    poll(imap_app, desk_mailbox)
    assert [c.body for c in comments(session, survivor)] == ["Louder today."]
    assert len(tickets(session)) == 2  # nothing raised


def test_an_answer_from_a_requester_whose_ticket_went_into_someone_elses_raises_a_follow_up(
    imap_app, session, mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com")
    bob = make_requester(session, email="bob@example.com")
    tess = make_technician(session, email="tess@example.com")
    with imap_app.app_context():
        survivor = make_ticket(session, erin, subject="VPN down")
        duplicate = make_ticket(session, bob, subject="No VPN")
        with unit_of_work(session):
            merging.merge_ticket(session, tess, duplicate.number, survivor.number)
    mailbox.deliver(write_mail("bob@example.com", f"Re: [#{duplicate.number}] No VPN", "Still down."))
    poll(imap_app, desk_mailbox)
    assert comments(session, survivor) == []
    follow_up = tickets(session)[-1]
    assert follow_up.requester_id == bob.id and "Still down." in follow_up.description
