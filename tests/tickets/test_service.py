from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from supportdesk.core import clock
from supportdesk.core.apikit import parse_query
from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.tickets import reads, service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Comment, EventKind, Ticket, TicketEvent
from supportdesk.tickets.paging import AssignedTo, Assignee, PageRequest, Sort, TicketFilters, TicketQuery
from supportdesk.tickets.service import TicketChanges
from tests.factories import (
    make_admin,
    make_category,
    make_requester,
    make_team,
    make_technician,
    make_ticket,
)
from tests.test_query_counts import counting


@pytest.fixture
def people(session):
    return {
        "alice": make_requester(session, full_name="Alice"),
        "bob": make_requester(session, full_name="Bob"),
        "tech": make_technician(session, full_name="Tess Tech"),
        "admin": make_admin(session, full_name="Ada Admin"),
    }


def events(session, ticket):
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    )


# --- create -------------------------------------------------------------------------------------------


def test_create_numbers_tickets_from_1001_and_records_the_creation(session, people):
    first = make_ticket(session, people["alice"])
    second = make_ticket(session, people["bob"])
    assert (first.number, second.number) == (1001, 1002)
    assert first.reference == "#1001"
    assert first.status is Status.NEW and first.priority is Priority.NORMAL and first.version == 1
    assert [(e.kind, e.new_value, e.actor_id) for e in events(session, first)] == [
        (EventKind.CREATED, "new", people["alice"].id)
    ]


def test_create_routes_to_the_categorys_default_team(session, people):
    network = make_team(session, "Network")
    vpn = make_category(session, "VPN", team=network)
    ticket = make_ticket(session, people["alice"], category_id=vpn.id)
    assert ticket.team_id == network.id and ticket.category_id == vpn.id


def test_create_validates_every_field_at_once(session, people):
    inactive = make_category(session, "Old", active=False)
    with pytest.raises(ValidationError) as raised, unit_of_work(session):
        service.create_ticket(
            session,
            people["alice"],
            subject="   ",
            description="x" * 20_001,
            priority=Priority.URGENT,
            category_id=inactive.id,
        )
    fields = {e.field for e in raised.value.errors}
    assert fields == {"subject", "description", "priority", "category_id"}
    assert session.scalar(select(func.count(Ticket.id))) == 0


def test_subject_is_trimmed_and_limited_to_200_characters(session, people):
    ticket = make_ticket(session, people["alice"], subject="  VPN \x00 down\n again ")
    assert ticket.subject == "VPN down again"
    make_ticket(session, people["alice"], subject="x" * 200)
    with pytest.raises(ValidationError, match="subject"):
        make_ticket(session, people["alice"], subject="x" * 201)


def test_requesters_cannot_raise_for_others_or_route(session, people):
    with pytest.raises(PermissionDenied) as raised:
        make_ticket(session, people["alice"], requester_id=people["bob"].id, assignee_id=people["tech"].id)
    assert set(raised.value.fields) == {"requester_id", "assignee_id"}


def test_staff_raise_tickets_for_requesters_and_route_them(session, people):
    team = make_team(session)
    ticket = make_ticket(
        session,
        people["tech"],
        requester_id=people["alice"].id,
        team_id=team.id,
        assignee_id=people["tech"].id,
        priority=Priority.URGENT,
    )
    assert ticket.requester_id == people["alice"].id
    assert (ticket.team_id, ticket.assignee_id, ticket.priority) == (
        team.id,
        people["tech"].id,
        Priority.URGENT,
    )


def test_staff_create_refuses_unknown_references(session, people):
    with pytest.raises(ValidationError) as raised:
        make_ticket(session, people["tech"], requester_id=9999, team_id=9999, assignee_id=people["bob"].id)
    assert {e.field for e in raised.value.errors} == {"requester_id", "team_id", "assignee_id"}


def test_deactivated_users_can_do_nothing(session, people):
    ticket = make_ticket(session, people["alice"])
    people["alice"].is_active = False
    session.commit()
    with pytest.raises(PermissionDenied):
        make_ticket(session, people["alice"])
    with pytest.raises(NotFound):
        service.get_ticket(session, people["alice"], ticket.number)
    with pytest.raises(PermissionDenied), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "hello?")


# --- read ---------------------------------------------------------------------------------------------


def test_requesters_see_only_their_own_tickets_and_others_are_not_found(session, people):
    mine = make_ticket(session, people["alice"])
    theirs = make_ticket(session, people["bob"])
    assert service.get_ticket(session, people["alice"], mine.number).id == mine.id
    with pytest.raises(NotFound):
        service.get_ticket(session, people["alice"], theirs.number)
    listed = reads.list_tickets(session, people["alice"]).items
    assert [t.number for t in listed] == [mine.number]
    # A filter naming someone else does not widen the scope.
    assert (
        reads.list_tickets(session, people["alice"], TicketFilters(requester_id=people["bob"].id)).items == []
    )


def test_staff_see_every_ticket(session, people):
    make_ticket(session, people["alice"])
    make_ticket(session, people["bob"])
    for actor in (people["tech"], people["admin"]):
        assert len(reads.list_tickets(session, actor).items) == 2


def test_a_list_reads_plain_rows_with_the_names_it_shows(session, people):
    """A page of tickets is read as plain columns, names included: building ORM objects for every
    ticket and every person, team and category it points at was a third of a queue page's time."""
    team = make_team(session, "Network")
    category = make_category(session, "VPN", team=team)
    ticket = make_ticket(session, people["alice"], subject="VPN drops", category_id=category.id)
    service.assign(session, people["tech"], ticket.number, people["tech"].id)
    session.commit()
    session.expunge_all()
    (row,) = reads.list_tickets(session, people["tech"]).items
    assert not [obj for obj in session.identity_map.values() if isinstance(obj, Ticket)]
    assert (row.number, row.reference, row.subject, row.status, row.version) == (
        ticket.number,
        ticket.reference,
        "VPN drops",
        Status.NEW,
        2,
    )
    assert (row.requester.id, row.requester.full_name) == (people["alice"].id, people["alice"].full_name)
    assert (row.assignee.id, row.assignee.full_name) == (people["tech"].id, people["tech"].full_name)
    assert (row.team.name, row.category.name) == ("Network", "VPN")


def test_a_ticket_page_reads_plain_rows_with_the_names_it_shows(session, people):
    """The ticket, its conversation and its activity log are read as plain rows with the names they
    show: ORM objects for the ticket, every comment, event and the people they name were most of the
    ticket workspace's time, and a page only reads them."""
    team = make_team(session, "Network")
    category = make_category(session, "VPN", team=team)
    ticket = make_ticket(session, people["alice"], subject="VPN drops", category_id=category.id)
    service.assign(session, people["tech"], ticket.number, people["tech"].id)
    session.commit()
    service.add_comment(session, people["tech"], ticket.number, "Known issue.", internal=True)
    session.commit()
    service.add_comment(session, people["tech"], ticket.number, "On it!")
    session.commit()
    service.add_comment(session, people["alice"], ticket.number, "Thanks")
    session.commit()
    session.expunge_all()

    shown = reads.conversation(session, people["tech"], ticket.number)
    assert list(session.identity_map.values()) == []
    read = shown.ticket
    assert (read.number, read.subject, read.status, read.version) == (
        ticket.number,
        "VPN drops",
        Status.OPEN,
        session.get(Ticket, ticket.id).version,
    )
    assert (read.requester.full_name, read.requester.email) == ("Alice", people["alice"].email)
    assert (read.assignee.full_name, read.team.name, read.category.name) == ("Tess Tech", "Network", "VPN")
    assert (read.requester_id, read.assignee_id, read.team_id, read.category_id) == (
        people["alice"].id,
        people["tech"].id,
        team.id,
        category.id,
    )
    assert [(c.author.full_name, c.author.is_staff, c.internal, c.body) for c in shown.comments] == [
        ("Tess Tech", True, True, "Known issue."),
        ("Tess Tech", True, False, "On it!"),
        ("Alice", False, False, "Thanks"),
    ]
    assert [(e.kind, e.actor.full_name if e.actor else None) for e in shown.events][:2] == [
        (EventKind.CREATED, "Alice"),
        (EventKind.ASSIGNEE, "Tess Tech"),
    ]

    as_requester = reads.conversation(session, people["alice"], ticket.number, with_events=False)
    assert [c.body for c in as_requester.comments] == ["On it!", "Thanks"]
    assert as_requester.events == []
    with pytest.raises(NotFound):
        reads.conversation(session, people["bob"], ticket.number)
    assert reads.read_ticket(session, people["alice"], ticket.number) == read
    with pytest.raises(NotFound):
        reads.read_ticket(session, people["bob"], ticket.number)


def test_unknown_ticket_is_not_found(session, people):
    with pytest.raises(NotFound, match="#4242"):
        service.get_ticket(session, people["tech"], 4242)


def test_filters(session, people):
    team = make_team(session)
    category = make_category(session, team=team)
    a = make_ticket(session, people["alice"], subject="Laptop battery", category_id=category.id)
    b = make_ticket(session, people["bob"], subject="VPN 100% broken", priority=Priority.HIGH)
    service.assign(session, people["tech"], b.number, people["tech"].id)
    session.commit()
    service.transition(session, people["tech"], b.number, Status.PENDING)
    session.commit()
    tech = people["tech"]

    def numbers(**kwargs):
        return [t.number for t in reads.list_tickets(session, tech, TicketFilters(**kwargs)).items]

    assert numbers(statuses=frozenset({Status.PENDING})) == [b.number]
    assert numbers(priorities=frozenset({Priority.HIGH})) == [b.number]
    assert numbers(assignee=Assignee.ME) == [b.number]
    assert numbers(assignee=Assignee.NOBODY) == [a.number]
    assert numbers(assignee=AssignedTo(tech.id)) == [b.number]
    assert numbers(requester_id=people["alice"].id) == [a.number]
    assert numbers(team_ids=frozenset({team.id})) == [a.number]
    assert numbers(category_id=category.id) == [a.number]
    assert numbers(text="battery") == [a.number]
    assert numbers(text="100%") == [b.number]
    assert numbers(text="_") == []
    assert numbers(text=f"#{a.number}") == [a.number]
    assert set(numbers(updated_since=a.created_at)) == {a.number, b.number}
    assert numbers(updated_since=b.updated_at + timedelta(seconds=1)) == []


@pytest.mark.parametrize(
    "sort_text",
    ["-updated_at", "updated_at", "created_at", "-created_at", "priority", "-priority", "number", "-number"],
)
def test_keyset_pages_walk_every_ticket_once_in_order(session, people, sort_text):
    priorities = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
    base = clock.now() - timedelta(days=1)
    for i in range(11):
        # Several tickets share a timestamp and a priority: ties are broken by id.
        with clock.frozen_at(base + timedelta(minutes=i // 3)):
            make_ticket(session, people["tech"], subject=f"Ticket {i}", priority=priorities[i % 4])
    sort = Sort.parse(sort_text)
    seen, cursor = [], None
    while True:
        page = reads.list_tickets(
            session, people["tech"], sort=sort, page=PageRequest(limit=4, cursor=cursor)
        )
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 11 and len({t.id for t in seen}) == 11
    key = {
        "updated_at": lambda t: (t.updated_at, t.id),
        "created_at": lambda t: (t.created_at, t.id),
        "priority": lambda t: (t.priority.rank, t.id),
        "number": lambda t: (t.number, t.id),
    }[sort.key.value]
    assert seen == sorted(seen, key=key, reverse=sort.descending)
    assert str(sort) == sort_text


def test_bad_sort_limit_and_cursor_are_validation_errors(session, people):
    with pytest.raises(ValidationError, match="sort"):
        parse_query(TicketQuery, MultiDict({"sort": "-password"}))
    with pytest.raises(ValidationError, match="limit"):
        reads.list_tickets(session, people["tech"], page=PageRequest(limit=0))
    with pytest.raises(ValidationError, match="limit"):
        reads.list_tickets(session, people["tech"], page=PageRequest(limit=101))
    for cursor in ("garbage!", "WyJudW1iZXIiLDEsMV0", "WyJ1cGRhdGVkX2F0IiwieCIsMV0", "W10"):
        with pytest.raises(ValidationError, match="cursor"):
            reads.list_tickets(session, people["tech"], page=PageRequest(cursor=cursor))
    priority_cursor = "WyJwcmlvcml0eSIsIngiLDFd"  # ["priority","x",1]
    with pytest.raises(ValidationError, match="cursor"):
        reads.list_tickets(
            session, people["tech"], sort=Sort.parse("priority"), page=PageRequest(cursor=priority_cursor)
        )


# --- update -------------------------------------------------------------------------------------------


def test_update_writes_one_version_and_one_event_per_field(session, people):
    team = make_team(session)
    category = make_category(session)
    ticket = make_ticket(session, people["alice"])
    updated = service.update_ticket(
        session,
        people["tech"],
        ticket.number,
        TicketChanges(
            priority=Priority.HIGH,
            assignee_id=people["tech"].id,
            team_id=team.id,
            category_id=category.id,
            subject="Printer on fire (3rd floor)",
            status=Status.OPEN,
        ),
        expected_version=1,
    )
    session.commit()
    assert updated.version == 2
    kinds = [e.kind for e in events(session, ticket)]
    assert kinds == [
        EventKind.CREATED,
        EventKind.SUBJECT,
        EventKind.PRIORITY,
        EventKind.ASSIGNEE,
        EventKind.TEAM,
        EventKind.CATEGORY,
        EventKind.STATUS,
    ]
    assignee_event = events(session, ticket)[3]
    assert (assignee_event.old_value, assignee_event.new_value) == (None, str(people["tech"].id))


def test_update_without_a_real_change_writes_nothing(session, people):
    ticket = make_ticket(session, people["alice"])
    same = service.update_ticket(
        session,
        people["tech"],
        ticket.number,
        TicketChanges(priority=Priority.NORMAL, subject=ticket.subject),
    )
    session.commit()
    assert same.version == 1 and len(events(session, ticket)) == 1


def test_stale_version_is_a_conflict_and_changes_nothing(session, people):
    ticket = make_ticket(session, people["alice"])
    service.assign(session, people["tech"], ticket.number, people["tech"].id, expected_version=1)
    session.commit()
    with pytest.raises(Conflict) as raised, unit_of_work(session):
        service.update_ticket(
            session, people["admin"], ticket.number, TicketChanges(priority=Priority.LOW), expected_version=1
        )
    assert raised.value.current_version == 2
    session.expire_all()
    assert service.get_ticket(session, people["tech"], ticket.number).priority is Priority.NORMAL


def test_requester_may_change_only_the_status(session, people):
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(PermissionDenied) as raised, unit_of_work(session):
        service.update_ticket(
            session,
            people["alice"],
            ticket.number,
            TicketChanges(assignee_id=people["tech"].id, priority=Priority.URGENT),
        )
    assert raised.value.fields == ("assignee_id", "priority")


def test_requester_cannot_touch_anothers_ticket(session, people):
    ticket = make_ticket(session, people["bob"])
    with pytest.raises(NotFound), unit_of_work(session):
        service.transition(session, people["alice"], ticket.number, Status.CLOSED)
    with pytest.raises(NotFound), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "me too")


def test_invalid_references_are_refused_before_anything_changes(session, people):
    requester_only = people["bob"]
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(ValidationError) as raised, unit_of_work(session):
        service.update_ticket(
            session,
            people["tech"],
            ticket.number,
            TicketChanges(
                priority=Priority.HIGH,
                assignee_id=requester_only.id,
                team_id=999,
                category_id=999,
                subject="",
            ),
        )
    assert {e.field for e in raised.value.errors} == {"assignee_id", "team_id", "category_id", "subject"}
    session.expire_all()
    assert service.get_ticket(session, people["tech"], ticket.number).priority is Priority.NORMAL


def test_clearing_assignee_team_and_category(session, people):
    team = make_team(session)
    category = make_category(session, team=team)
    ticket = make_ticket(session, people["alice"], category_id=category.id)
    service.assign(session, people["tech"], ticket.number, people["tech"].id)
    session.commit()
    cleared = service.update_ticket(
        session,
        people["tech"],
        ticket.number,
        TicketChanges(assignee_id=None, team_id=None, category_id=None),
    )
    session.commit()
    assert (cleared.assignee_id, cleared.team_id, cleared.category_id) == (None, None, None)


def test_inactive_staff_cannot_be_assigned(session, people):
    gone = make_technician(session, is_active=False)
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(ValidationError, match="assignee_id"), unit_of_work(session):
        service.assign(session, people["tech"], ticket.number, gone.id)


# --- life cycle ---------------------------------------------------------------------------------------


def test_resolve_close_and_reopen_keep_the_timestamps_true(session, people):
    ticket = make_ticket(session, people["alice"])
    resolved = service.transition(session, people["tech"], ticket.number, Status.RESOLVED)
    session.commit()
    assert resolved.resolved_at is not None and resolved.closed_at is None
    closed = service.transition(session, people["alice"], ticket.number, Status.CLOSED)
    session.commit()
    assert closed.closed_at is not None and closed.resolved_at is not None
    reopened = service.transition(session, people["alice"], ticket.number, Status.OPEN)
    session.commit()
    assert (reopened.status, reopened.resolved_at, reopened.closed_at) == (Status.OPEN, None, None)


def test_transitions_outside_the_table_are_refused(session, people):
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(InvalidTransition), unit_of_work(session):
        service.transition(session, people["alice"], ticket.number, Status.RESOLVED)
    service.transition(session, people["tech"], ticket.number, Status.RESOLVED)
    session.commit()
    with pytest.raises(InvalidTransition), unit_of_work(session):
        service.transition(session, people["tech"], ticket.number, Status.PENDING)


def test_requester_reopens_a_closed_ticket_only_within_the_window(session, people):
    ticket = make_ticket(session, people["alice"])
    long_ago = clock.now() - timedelta(days=30)
    with clock.frozen_at(long_ago):
        service.transition(session, people["alice"], ticket.number, Status.CLOSED)
        session.commit()
    with pytest.raises(InvalidTransition, match="raise a new ticket"), unit_of_work(session):
        service.transition(session, people["alice"], ticket.number, Status.OPEN)
    rules = service.DeskRules(reopen_window=timedelta(days=60))
    assert (
        service.transition(session, people["alice"], ticket.number, Status.OPEN, rules=rules).status
        is Status.OPEN
    )


def test_first_public_reply_from_the_desk_opens_the_ticket(session, people):
    ticket = make_ticket(session, people["alice"])
    service.add_comment(session, people["tech"], ticket.number, "Looking into it", internal=True)
    session.commit()
    session.refresh(ticket)
    assert ticket.status is Status.NEW and ticket.first_response_at is None
    service.add_comment(session, people["tech"], ticket.number, "Have you tried turning it off and on?")
    session.commit()
    session.refresh(ticket)
    assert ticket.status is Status.OPEN and ticket.first_response_at is not None
    first = ticket.first_response_at
    service.add_comment(session, people["tech"], ticket.number, "Any news?")
    session.commit()
    session.refresh(ticket)
    assert ticket.first_response_at == first


def test_requester_reply_reopens_pending_and_resolved_tickets(session, people):
    ticket = make_ticket(session, people["alice"])
    for status in (Status.PENDING, Status.RESOLVED):
        service.transition(session, people["tech"], ticket.number, status)
        session.commit()
        service.add_comment(session, people["alice"], ticket.number, "Still broken")
        session.commit()
        session.refresh(ticket)
        assert ticket.status is Status.OPEN and ticket.resolved_at is None


def test_closed_tickets_take_no_replies(session, people):
    ticket = make_ticket(session, people["alice"])
    service.transition(session, people["alice"], ticket.number, Status.CLOSED)
    session.commit()
    with pytest.raises(InvalidTransition, match="reopen"), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "one more thing")


def test_comment_validation_and_internal_notes(session, people):
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(ValidationError, match="body"), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "  \n ")
    with pytest.raises(ValidationError, match="body"), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "x" * 20_001)
    with pytest.raises(PermissionDenied), unit_of_work(session):
        service.add_comment(session, people["alice"], ticket.number, "sneaky", internal=True)
    with pytest.raises(Conflict), unit_of_work(session):
        service.add_comment(session, people["tech"], ticket.number, "hi", expected_version=99)
    service.add_comment(session, people["tech"], ticket.number, "Known issue with this model.", internal=True)
    session.commit()
    service.add_comment(session, people["tech"], ticket.number, "On it!")
    session.commit()
    assert [c.body for c in reads.list_comments(session, people["alice"], ticket.number)] == ["On it!"]
    assert len(reads.list_comments(session, people["tech"], ticket.number)) == 2
    comment_events = [e for e in events(session, ticket) if e.kind is EventKind.COMMENT]
    assert [e.new_value for e in comment_events] == ["internal", "public"]


def test_events_are_for_the_desk_only(session, people):
    ticket = make_ticket(session, people["alice"])
    with pytest.raises(PermissionDenied):
        reads.list_events(session, people["alice"], ticket.number)
    assert [e.kind for e in reads.list_events(session, people["tech"], ticket.number)] == [EventKind.CREATED]


def test_auto_close_closes_only_tickets_resolved_long_enough_ago(session, people):
    old = make_ticket(session, people["alice"])
    recent = make_ticket(session, people["alice"])
    with clock.frozen_at(clock.now() - timedelta(days=8)):
        service.transition(session, people["tech"], old.number, Status.RESOLVED)
        session.commit()
    service.transition(session, people["tech"], recent.number, Status.RESOLVED)
    session.commit()
    closed = service.close_resolved_tickets(session, clock.now(), timedelta(days=7), limit=1)
    session.commit()
    assert closed == 1
    session.expire_all()
    old_ticket = service.get_ticket(session, people["tech"], old.number)
    assert old_ticket.status is Status.CLOSED and old_ticket.closed_at is not None
    assert service.get_ticket(session, people["tech"], recent.number).status is Status.RESOLVED
    system_event = events(session, old_ticket)[-1]
    assert (system_event.kind, system_event.actor_id, system_event.new_value) == (
        EventKind.STATUS,
        None,
        "closed",
    )


def test_a_write_racing_another_is_a_conflict_not_a_lost_update(session, people, clean_app):
    """Two sessions load version 1; the second writer must fail even without an expected version."""
    ticket = make_ticket(session, people["alice"])
    other = clean_app.extensions["supportdesk.sessionmaker"]()
    tech = other.get(type(people["tech"]), people["tech"].id)
    loaded = service.get_ticket(other, tech, ticket.number)
    other.commit()
    service.transition(session, people["tech"], ticket.number, Status.PENDING)
    session.commit()
    loaded.priority = Priority.HIGH  # a write from the stale copy
    with pytest.raises(StaleDataError):
        other.commit()
    other.close()
    assert session.scalar(select(func.count(Comment.id))) == 0


def test_each_user_gets_their_own_list_in_one_statement(session, people, clean_app):
    """Lists cost one statement whoever asks and whatever they filter by, and each user still gets only
    their own tickets."""
    other = make_technician(session, full_name="Olga Other")
    mine = make_ticket(session, people["alice"], subject="Mine")
    theirs = make_ticket(session, people["bob"], subject="Theirs")
    service.assign(session, people["tech"], mine.number, people["tech"].id)
    session.commit()
    service.assign(session, other, theirs.number, other.id)
    session.commit()
    with counting(clean_app) as statements:
        own = [
            [t.subject for t in reads.list_tickets(session, actor, TicketFilters(assignee=Assignee.ME)).items]
            for actor in (people["tech"], other)
        ]
        requested = [
            [t.subject for t in reads.list_tickets(session, actor).items]
            for actor in (people["alice"], people["bob"])
        ]
    assert own == [["Mine"], ["Theirs"]]
    assert requested == [["Mine"], ["Theirs"]]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 4


def test_a_creation_key_costs_one_statement_and_a_retry_gets_the_first_ticket(session, people, clean_app):
    """Raising a ticket with a key costs one statement more than without (the key itself, no look-up
    first); a retry of the same request is told which ticket the first attempt raised, and raises none."""
    service.create_ticket(session, people["alice"], subject="Keyboard")  # what a process reads once is read
    session.commit()
    with counting(clean_app) as without_key:
        service.create_ticket(session, people["alice"], subject="Mouse")
        session.commit()
    with counting(clean_app) as with_key:
        first = service.create_ticket(session, people["alice"], subject="Dock", creation_key="form-1")
        session.commit()
    assert len(with_key) == len(without_key) + 1
    with pytest.raises(service.AlreadyCreated) as retry, unit_of_work(session):
        service.create_ticket(session, people["alice"], subject="Dock", creation_key="form-1")
    assert retry.value.number == first.number
    assert session.scalar(select(func.count()).select_from(Ticket)) == 3
    with pytest.raises(ValidationError, match="different request"), unit_of_work(session):
        service.create_ticket(session, people["alice"], subject="Other", creation_key="form-1")
    with pytest.raises(ValidationError, match="Idempotency-Key"), unit_of_work(session):
        service.create_ticket(session, people["alice"], subject="Dock", creation_key="x" * 201)
