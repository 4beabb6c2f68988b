"""Parent incidents and their child tickets (issue 21, US-91): linking and unlinking with events on
both sides, a public reply on the parent reaching every child's requester through their own ticket,
resolving the parent resolving its open children in the same unit of work; the desk only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.notifications.models import Notification, NotificationKind
from supportdesk.tickets import incidents, links, service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, EventKind, Ticket, TicketEvent
from supportdesk.tickets.service import TicketChanges
from tests.factories import make_requester, make_technician, make_ticket
from tests.security.conftest import snapshot


@pytest.fixture
def outage(session):
    """The VPN is down: Tess's incident ticket, and three people's reports of it."""
    tech = make_technician(session, full_name="Tess Tech", email="tess@example.com")
    reporters = [
        make_requester(session, full_name=f"Person {n}", email=f"p{n}@example.com") for n in range(3)
    ]
    parent = make_ticket(session, tech, subject="VPN outage", description="The gateway is down")
    children = [make_ticket(session, person, subject="VPN down?") for person in reporters]
    for child in children:
        with unit_of_work(session):
            incidents.link_to_incident(session, tech, child.number, parent.number)
    return {"tech": tech, "reporters": reporters, "parent": parent, "children": children}


def events(session, ticket, kind):
    session.expire_all()
    return [
        (e.old_value, e.new_value)
        for e in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
            .order_by(TicketEvent.id)
        )
    ]


def test_linked_children_point_at_the_parent_with_events_on_both(session, outage):
    parent, children = outage["parent"], outage["children"]
    session.expire_all()
    assert all(session.get(Ticket, c.id).parent_id == parent.id for c in children)
    assert events(session, children[0], EventKind.PARENT) == [(None, parent.reference)]
    assert events(session, parent, EventKind.CHILD) == [(None, c.reference) for c in children]
    shown = links.related(session, outage["tech"], parent.number)
    assert [c.number for c in shown.children] == [c.number for c in children] and shown.open_children == 3
    assert links.related(session, outage["tech"], children[0].number).parent.number == parent.number


def test_requesters_of_children_see_nothing_of_the_incident(session, outage):
    child, person = outage["children"][0], outage["reporters"][0]
    mine = links.related(session, person, child.number)
    assert mine.parent is None and mine.children == []
    with pytest.raises(NotFound):
        links.related(session, person, outage["parent"].number)


def test_unlinking_takes_the_child_out_with_events(session, outage):
    parent, child = outage["parent"], outage["children"][1]
    with unit_of_work(session):
        incidents.unlink_from_incident(session, outage["tech"], child.number)
    session.expire_all()
    assert session.get(Ticket, child.id).parent_id is None
    assert events(session, child, EventKind.PARENT)[-1] == (parent.reference, None)
    assert events(session, parent, EventKind.CHILD)[-1] == (child.reference, None)


def test_a_reply_on_the_parent_reaches_every_open_childs_requester(session, outage):
    tech, parent, children = outage["tech"], outage["parent"], outage["children"]
    with unit_of_work(session):
        service.transition(session, tech, children[2].number, Status.CLOSED)
    with unit_of_work(session):
        _, reached = incidents.reply_with_children(
            session, tech, parent.number, "The gateway is back: reconnect, please."
        )
    assert reached == [children[0].number, children[1].number]
    session.expire_all()
    for child, person in zip(children[:2], outage["reporters"][:2], strict=True):
        bodies = [c.body for c in session.scalars(select(Comment).where(Comment.ticket_id == child.id))]
        assert bodies == ["The gateway is back: reconnect, please."]
        told = session.scalars(select(Notification).where(Notification.user_id == person.id)).all()
        assert any(n.kind is NotificationKind.REPLY and n.ticket_id == child.id for n in told)
    assert session.scalars(select(Comment).where(Comment.ticket_id == children[2].id)).all() == []


def test_an_internal_note_never_goes_to_the_children(session, outage):
    before = snapshot(session)
    with pytest.raises(ValidationError), unit_of_work(session):
        incidents.reply_with_children(session, outage["tech"], outage["parent"].number, "note", internal=True)
    assert snapshot(session) == before


def test_resolving_the_parent_resolves_its_open_children_in_the_same_unit_of_work(session, outage):
    tech, parent, children = outage["tech"], outage["parent"], outage["children"]
    with unit_of_work(session):
        service.transition(session, tech, children[1].number, Status.CLOSED)
    with unit_of_work(session):
        service.update_ticket(session, tech, parent.number, TicketChanges(status=Status.RESOLVED))
    session.expire_all()
    statuses = [session.get(Ticket, c.id).status for c in children]
    assert statuses == [Status.RESOLVED, Status.CLOSED, Status.RESOLVED]
    assert events(session, children[0], EventKind.STATUS)[-1] == ("new", "resolved")
    told = session.scalars(
        select(Notification).where(Notification.user_id == outage["reporters"][0].id)
    ).all()
    assert any(n.kind is NotificationKind.RESOLVED for n in told)


def test_a_unit_of_work_refused_after_resolving_the_parent_resolves_no_child(session, outage):
    def resolve_then_fail() -> None:
        with unit_of_work(session):
            service.update_ticket(
                session, outage["tech"], outage["parent"].number, TicketChanges(status=Status.RESOLVED)
            )
            raise InvalidTransition("something after it failed")

    before = snapshot(session)
    with pytest.raises(InvalidTransition):
        resolve_then_fail()
    assert snapshot(session) == before


@pytest.mark.parametrize(
    "case", ["itself", "twice", "a child as parent", "a parent as child", "closed parent"]
)
def test_refused_links_change_nothing(session, outage, case):
    tech, parent, children = outage["tech"], outage["parent"], outage["children"]
    other = make_ticket(session, outage["reporters"][0], subject="Printer")
    if case == "closed parent":
        with unit_of_work(session):
            service.transition(session, tech, other.number, Status.CLOSED)
    number, into = {
        "itself": (other.number, other.number),
        "twice": (children[0].number, parent.number),
        "a child as parent": (other.number, children[0].number),
        "a parent as child": (parent.number, other.number),
        "closed parent": (make_ticket(session, tech).number, other.number),
    }[case]
    before = snapshot(session)
    with pytest.raises((ValidationError, InvalidTransition)), unit_of_work(session):
        incidents.link_to_incident(session, tech, number, into)
    assert snapshot(session) == before


def test_only_the_desk_links_tickets(session, outage):
    person, child = outage["reporters"][0], outage["children"][0]
    mine = make_ticket(session, person)
    before = snapshot(session)
    with pytest.raises(PermissionDenied), unit_of_work(session):
        incidents.link_to_incident(session, person, mine.number, child.number)
    with pytest.raises(PermissionDenied), unit_of_work(session):
        incidents.unlink_from_incident(session, person, child.number)
    with pytest.raises(PermissionDenied), unit_of_work(session):
        incidents.reply_with_children(session, person, child.number, "hello everyone")
    assert snapshot(session) == before
