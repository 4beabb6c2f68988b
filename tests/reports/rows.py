"""Random desks written straight into the tables (tickets with a consistent history of status events),
and the figures computed from those raw rows in plain Python: the reports' second opinion."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Role, Team, User
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, DONE_STATUSES, Priority, Status
from supportdesk.tickets.models import Category, EventKind, Ticket, TicketEvent
from tests.factories import _password_hash

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class RawServiceLevel:
    """What a ticket under a service-level policy stores of it: each target met (False), breached
    (True) or not decided yet (None), and the working time its resolution clock has run."""

    first_response_breached: bool | None
    resolution_breached: bool | None
    worked_seconds: int


@dataclass
class RawTicket:
    team: int | None  # an index into the desk's teams
    category: int | None
    priority: Priority
    assignee: int | None  # an index into the desk's technicians
    created_at: datetime
    first_response_after: timedelta | None
    # (seconds after the previous change, the status it moved to)
    changes: list[tuple[datetime, Status]] = field(default_factory=list)
    service_level: RawServiceLevel | None = None

    @property
    def status(self) -> Status:
        return self.changes[-1][1] if self.changes else Status.NEW

    @property
    def resolved_at(self) -> datetime | None:
        if self.status not in DONE_STATUSES:
            return None
        moment = None
        for at, status in reversed(self.changes):
            if status not in DONE_STATUSES:
                break
            moment = at
        return moment

    def status_at(self, instant: datetime) -> Status | None:
        if self.created_at >= instant:
            return None
        current = Status.NEW
        for at, status in self.changes:
            if at < instant:
                current = status
        return current


@st.composite
def raw_tickets(draw: st.DrawFn, teams: int, categories: int, technicians: int) -> RawTicket:
    created = NOW - timedelta(seconds=draw(st.integers(0, 70 * 86400)))
    ticket = RawTicket(
        team=draw(st.none() | st.integers(0, teams - 1)),
        category=draw(st.none() | st.integers(0, categories - 1)),
        priority=draw(st.sampled_from(Priority)),
        assignee=draw(st.none() | st.integers(0, technicians - 1)),
        created_at=created,
        first_response_after=draw(st.none() | st.integers(0, 6 * 86400).map(lambda s: timedelta(seconds=s))),
        service_level=draw(
            st.none()
            | st.builds(
                RawServiceLevel,
                st.none() | st.booleans(),
                st.none() | st.booleans(),
                st.integers(0, 30 * 86400),
            )
        ),
    )
    if ticket.first_response_after is not None and created + ticket.first_response_after > NOW:
        ticket.first_response_after = None
    at, status = created, Status.NEW
    for gap, target in draw(
        st.lists(st.tuples(st.integers(1, 9 * 86400), st.sampled_from(Status)), max_size=5)
    ):
        if target is status or at + timedelta(seconds=gap) > NOW:
            continue
        at, status = at + timedelta(seconds=gap), target
        ticket.changes.append((at, status))
    return ticket


@dataclass
class Desk:
    teams: list[int]
    categories: list[int]
    category_names: dict[int, str]
    technicians: list[int]
    tickets: list[RawTicket]

    def team_id(self, ticket: RawTicket) -> int | None:
        return None if ticket.team is None else self.teams[ticket.team]

    def category_id(self, ticket: RawTicket) -> int | None:
        return None if ticket.category is None else self.categories[ticket.category]

    def assignee_id(self, ticket: RawTicket) -> int | None:
        return None if ticket.assignee is None else self.technicians[ticket.assignee]


def write_desk(
    session: Session,
    tickets: list[RawTicket],
    teams: int,
    categories: int,
    technicians: int,
    first_number: int = 1001,
) -> Desk:
    team_rows = [Team(name=f"Team {i}") for i in range(teams)]
    category_rows = [Category(name=f"Category {chr(65 + (i * 7) % 26)}{i}") for i in range(categories)]
    staff = [
        User(
            email=f"tech{i}@example.com",
            full_name=f"Tech {i}",
            role=Role.TECHNICIAN,
            password_hash=_password_hash(),
        )
        for i in range(technicians)
    ]
    requester = User(
        email="raiser@example.com", full_name="Raiser", role=Role.REQUESTER, password_hash=_password_hash()
    )
    session.add_all([*team_rows, *category_rows, *staff, requester])
    session.flush()
    desk = Desk(
        [t.id for t in team_rows],
        [c.id for c in category_rows],
        {c.id: c.name for c in category_rows},
        [u.id for u in staff],
        tickets,
    )
    for number, raw in enumerate(tickets, start=first_number):
        resolved = raw.resolved_at
        row = Ticket(
            number=number,
            subject=f"Ticket {number}",
            status=raw.status,
            priority=raw.priority,
            requester_id=requester.id,
            assignee_id=desk.assignee_id(raw),
            team_id=desk.team_id(raw),
            category_id=desk.category_id(raw),
            created_at=raw.created_at,
            updated_at=raw.changes[-1][0] if raw.changes else raw.created_at,
            first_response_at=None
            if raw.first_response_after is None
            else raw.created_at + raw.first_response_after,
            resolved_at=resolved,
            closed_at=raw.changes[-1][0] if raw.status is Status.CLOSED else None,
        )
        if raw.service_level is not None:
            row.sla_policy_id = 1  # the figures read the stored outcome, not the policy
            row.first_response_breached = raw.service_level.first_response_breached
            row.resolution_breached = raw.service_level.resolution_breached
            row.sla_worked_seconds = raw.service_level.worked_seconds
        session.add(row)
        session.flush()
        events = [
            TicketEvent(ticket_id=row.id, kind=EventKind.CREATED, new_value="new", created_at=raw.created_at)
        ]
        previous = Status.NEW
        for at, status in raw.changes:
            events.append(
                TicketEvent(
                    ticket_id=row.id,
                    kind=EventKind.STATUS,
                    old_value=previous.value,
                    new_value=status.value,
                    created_at=at,
                )
            )
            previous = status
        session.add_all(events)
    session.commit()
    return desk


@dataclass(frozen=True)
class Window:
    """What the report is asked about: the range (UTC edges of its periods) and the filters."""

    edges: list[datetime]  # start of each period, then the end of the last
    zone: ZoneInfo
    teams: frozenset[int] | None  # the reader's reach: None for every ticket
    team: int | None
    category: int | None
    priority: Priority | None


def selected(desk: Desk, window: Window) -> list[RawTicket]:
    chosen = []
    for ticket in desk.tickets:
        team = desk.team_id(ticket)
        if window.teams is not None and team not in window.teams:
            continue
        if window.team is not None and team != window.team:
            continue
        if window.category is not None and desk.category_id(ticket) != window.category:
            continue
        if window.priority is not None and ticket.priority is not window.priority:
            continue
        chosen.append(ticket)
    return chosen


def period_of(instant: datetime | None, edges: list[datetime]) -> int | None:
    if instant is None:
        return None
    for index in range(len(edges) - 1):
        if edges[index] <= instant < edges[index + 1]:
            return index
    return None


def expected_volume(desk: Desk, window: Window) -> tuple[list[int], list[int]]:
    created = [0] * (len(window.edges) - 1)
    resolved = [0] * (len(window.edges) - 1)
    for ticket in selected(desk, window):
        if (index := period_of(ticket.created_at, window.edges)) is not None:
            created[index] += 1
        if (index := period_of(ticket.resolved_at, window.edges)) is not None:
            resolved[index] += 1
    return created, resolved


def expected_backlog(desk: Desk, window: Window) -> list[dict[tuple[int | None, Status], int]]:
    """Each period's open tickets at its end, by (team, status), replaying each ticket's history forward."""
    result = []
    for end in window.edges[1:]:
        counts: Counter[tuple[int | None, Status]] = Counter()
        for ticket in selected(desk, window):
            status = ticket.status_at(min(end, NOW + timedelta(microseconds=1)))
            if status in ACTIVE_STATUSES:
                counts[(desk.team_id(ticket), status)] += 1
        result.append(dict(counts))
    return result


def summary(values: list[float]) -> tuple[int, float | None, float | None]:
    """(count, median, 90th percentile by linear interpolation between closest ranks)."""
    if not values:
        return 0, None, None
    if len(values) == 1:
        return 1, values[0], values[0]
    return len(values), statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def expected_times(desk: Desk, window: Window) -> tuple[tuple[int, float | None, float | None], ...]:
    first, last = window.edges[0], window.edges[-1]
    responses = [
        t.first_response_after.total_seconds()
        for t in selected(desk, window)
        if t.first_response_after is not None and first <= t.created_at < last
    ]
    resolutions = [
        (t.resolved_at - t.created_at).total_seconds()
        for t in selected(desk, window)
        if t.resolved_at is not None and first <= t.resolved_at < last
    ]
    return summary(responses), summary(resolutions)


def expected_technicians(desk: Desk, window: Window) -> dict[int, tuple[int, int]]:
    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    first, last = window.edges[0], window.edges[-1]
    for ticket in selected(desk, window):
        who = desk.assignee_id(ticket)
        if who is None:
            continue
        if ticket.status in ACTIVE_STATUSES:
            figures[who][0] += 1
        if ticket.resolved_at is not None and first <= ticket.resolved_at < last:
            figures[who][1] += 1
    return {who: (load, done) for who, (load, done) in figures.items()}


def expected_categories(desk: Desk, window: Window, limit: int) -> list[tuple[int | None, int]]:
    counts: Counter[int | None] = Counter()
    first, last = window.edges[0], window.edges[-1]
    for ticket in selected(desk, window):
        if first <= ticket.created_at < last:
            counts[desk.category_id(ticket)] += 1

    def order(item: tuple[int | None, int]) -> tuple[int, bool, str]:
        category, count = item
        return -count, category is None, desk.category_names.get(category, "") if category else ""

    return sorted(counts.items(), key=order)[:limit]


def expected_service_levels(desk: Desk, window: Window) -> dict[tuple[int | None, ...], tuple[int, ...]]:
    """Per (team, category, assignee): first responses met and breached (tickets raised in the range),
    resolutions met and breached (tickets resolved in it), and open tickets breached now."""
    first, last = window.edges[0], window.edges[-1]
    figures: dict[tuple[int | None, ...], list[int]] = defaultdict(lambda: [0] * 5)
    for ticket in selected(desk, window):
        level = ticket.service_level
        if level is None:
            continue
        key = (desk.team_id(ticket), desk.category_id(ticket), desk.assignee_id(ticket))
        if first <= ticket.created_at < last and level.first_response_breached is not None:
            figures[key][1 if level.first_response_breached else 0] += 1
        resolved = ticket.resolved_at
        if resolved is not None and first <= resolved < last and level.resolution_breached is not None:
            figures[key][3 if level.resolution_breached else 2] += 1
        if ticket.status in ACTIVE_STATUSES and (level.first_response_breached or level.resolution_breached):
            figures[key][4] += 1
    return {key: tuple(counts) for key, counts in figures.items()}


def expected_working_resolution(desk: Desk, window: Window) -> tuple[int, float | None, float | None]:
    """The working time to resolution of the tickets under a service level resolved in the range."""
    first, last = window.edges[0], window.edges[-1]
    return summary(
        [
            float(t.service_level.worked_seconds)
            for t in selected(desk, window)
            if t.service_level is not None and t.resolved_at is not None and first <= t.resolved_at < last
        ]
    )
