"""Merging a duplicate into the ticket the desk carries on in (issue 21, US-91): one unit of work, the
duplicate's requester told in public and copied on the survivor, the duplicate closed and pointing at
it, events on both; refused for itself, merged or closed tickets, and anyone but the desk. The
conversation stays on the duplicate and is shown on the survivor to whoever may read it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.notifications.models import Notification, NotificationKind, TicketWatcher
from supportdesk.tickets import links, merging, service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from tests.factories import make_requester, make_technician, make_ticket
from tests.security.conftest import snapshot


@pytest.fixture
def people(session):
    return {
        "alice": make_requester(session, full_name="Alice Able", email="alice@example.com"),
        "bob": make_requester(session, full_name="Bob Baker", email="bob@example.com"),
        "tech": make_technician(session, full_name="Tess Tech", email="tess@example.com"),
    }


def kinds(session, ticket):
    session.expire_all()
    return [
        (e.kind, e.new_value)
        for e in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    ]


def merge(session, actor, number, into, **options):
    with unit_of_work(session):
        return merging.merge_ticket(session, actor, number, into, **options)


def test_merging_closes_the_duplicate_pointing_at_the_survivor_with_events_on_both(session, people):
    survivor = make_ticket(session, people["alice"], subject="VPN is down", description="Since 9:00")
    duplicate = make_ticket(session, people["bob"], subject="Cannot reach VPN", description="Error 809")
    service.add_comment(session, people["bob"], duplicate.number, "Still failing after a restart")
    session.commit()

    merge(session, people["tech"], duplicate.number, survivor.number)

    session.expire_all()
    merged = session.get(Ticket, duplicate.id)
    assert merged.status is Status.CLOSED and merged.merged_into_id == survivor.id
    assert (EventKind.MERGED_INTO, survivor.reference) in kinds(session, merged)
    assert (EventKind.MERGED_FROM, duplicate.reference) in kinds(session, session.get(Ticket, survivor.id))
    # Told in public, through the normal path: a reply on their ticket, and a notification of it.
    last = merged.comments[-1]
    assert not last.internal and survivor.reference in last.body and last.author_id == people["tech"].id
    told = session.scalars(select(Notification).where(Notification.user_id == people["bob"].id)).all()
    assert any(n.kind is NotificationKind.REPLY and n.ticket_id == duplicate.id for n in told)
    # Copied on the survivor from now on.
    assert session.get(TicketWatcher, (survivor.id, people["bob"].id)) is not None


def test_the_survivor_shows_the_duplicates_conversation_to_the_desk_and_to_no_other_requester(
    session, people
):
    survivor = make_ticket(session, people["alice"], subject="VPN is down")
    duplicate = make_ticket(session, people["bob"], subject="Cannot reach VPN", description="Error 809")
    service.add_comment(session, people["bob"], duplicate.number, "Still failing after a restart")
    session.commit()
    merge(session, people["tech"], duplicate.number, survivor.number)

    desk_view = links.related(session, people["tech"], survivor.number)
    assert [m.number for m in desk_view.merged_from] == [duplicate.number]
    shown = desk_view.merged_from[0]
    assert shown.description == "Error 809"
    assert next(c.body for c in shown.comments) == "Still failing after a restart"
    # Alice owns the survivor but not the duplicate: none of Bob's words reach her.
    assert links.related(session, people["alice"], survivor.number).merged_from == []
    # Bob sees where his ticket went, by number only (he may not open Alice's ticket).
    bobs = links.related(session, people["bob"], duplicate.number)
    assert bobs.merged_into is not None and bobs.merged_into.number == survivor.number
    assert bobs.merged_into.subject is None
    with pytest.raises(NotFound):
        links.related(session, people["bob"], survivor.number)


def test_a_requesters_own_duplicate_is_shown_on_their_survivor_and_linked(session, people):
    survivor = make_ticket(session, people["alice"], subject="Printer jams")
    duplicate = make_ticket(session, people["alice"], subject="Printer jams again", description="Tray 2")
    merge(session, people["tech"], duplicate.number, survivor.number)

    mine = links.related(session, people["alice"], survivor.number)
    assert [m.description for m in mine.merged_from] == ["Tray 2"]
    pointer = links.related(session, people["alice"], duplicate.number).merged_into
    assert pointer is not None and pointer.subject == "Printer jams"
    # Same requester: nobody to copy.
    assert session.scalars(select(TicketWatcher)).all() == []


def test_copying_the_requester_can_be_declined(session, people):
    survivor = make_ticket(session, people["alice"])
    duplicate = make_ticket(session, people["bob"])
    merge(session, people["tech"], duplicate.number, survivor.number, copy_requester=False)
    assert session.scalars(select(TicketWatcher)).all() == []


def test_the_desk_writes_its_own_words_to_the_requester(session, people):
    survivor = make_ticket(session, people["alice"])
    duplicate = make_ticket(session, people["bob"])
    merge(session, people["tech"], duplicate.number, survivor.number, message="We track this in #1001.")
    session.expire_all()
    assert session.get(Ticket, duplicate.id).comments[-1].body == "We track this in #1001."


def test_tickets_merged_into_the_duplicate_follow_it_to_the_survivor(session, people):
    first = make_ticket(session, people["alice"])
    second = make_ticket(session, people["alice"])
    third = make_ticket(session, people["alice"])
    merge(session, people["tech"], first.number, second.number)
    merge(session, people["tech"], second.number, third.number)
    session.expire_all()
    assert session.get(Ticket, first.id).merged_into_id == third.id
    assert {m.number for m in links.related(session, people["tech"], third.number).merged_from} == {
        first.number,
        second.number,
    }


@pytest.mark.parametrize(
    "case",
    ["itself", "into a merged ticket", "a merged ticket", "into a closed ticket", "a closed ticket", "cycle"],
)
def test_refused_merges_change_nothing(session, people, case):
    tech = people["tech"]
    a = make_ticket(session, people["alice"])
    b = make_ticket(session, people["bob"])
    c = make_ticket(session, people["bob"])
    if case in ("into a merged ticket", "a merged ticket", "cycle"):
        merge(session, tech, c.number, b.number)
    if case in ("into a closed ticket", "a closed ticket"):
        closed = b if case == "into a closed ticket" else a
        with unit_of_work(session):
            service.transition(session, tech, closed.number, Status.CLOSED)
    number, into = {
        "itself": (a.number, a.number),
        "into a merged ticket": (a.number, c.number),
        "a merged ticket": (c.number, a.number),
        "into a closed ticket": (a.number, b.number),
        "a closed ticket": (a.number, b.number),
        "cycle": (b.number, c.number),
    }[case]
    before = snapshot(session)
    with pytest.raises((ValidationError, InvalidTransition)):
        merge(session, tech, number, into)
    assert snapshot(session) == before


def test_only_the_desk_merges_and_only_tickets_it_can_see(session, people):
    a = make_ticket(session, people["alice"])
    b = make_ticket(session, people["alice"])
    before = snapshot(session)
    with pytest.raises(PermissionDenied):
        merge(session, people["alice"], a.number, b.number)
    with pytest.raises(NotFound):
        merge(session, people["tech"], a.number, 999_999)
    assert snapshot(session) == before


def test_a_failure_after_the_merge_began_leaves_nothing_half_merged(session, people, monkeypatch):
    a = make_ticket(session, people["alice"])
    b = make_ticket(session, people["bob"])
    before = snapshot(session)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merging, "_copy_people", broken)
    with pytest.raises(RuntimeError):
        merge(session, people["tech"], a.number, b.number)
    assert snapshot(session) == before
