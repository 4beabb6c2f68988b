"""The reports' figures, read as plain rows and aggregated by the database (per calendar slot, summed
into periods here). Every figure counts the tickets in the reader's scope that match the filters by
their current team, category and priority.

- volume: tickets created per period, and resolved per period (by their latest resolution);
- backlog: open tickets (new, open, pending, on hold) at the end of each period, by team and status,
  found by replaying the audit trail backwards from today's open tickets (each creation and status
  change is an event), so its cost is that of the events since the range began, not of the desk;
- times: first response (tickets raised in the range) and resolution (tickets resolved in it), count,
  median and 90th percentile (linear between closest ranks), in calendar time; and resolution in
  working time for the tickets under a service level (its clock: business hours, pauses left out);
- service levels: per team, category and assignee, first responses met and breached (tickets raised in
  the range), resolutions met and breached (tickets resolved in it), as each ticket stores its outcome,
  and the open tickets that have breached a target now;
- technicians: each assignee's open tickets now and tickets resolved in the range;
- categories: the categories most tickets were raised in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Executable,
    Float,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from supportdesk.accounts.models import User
from supportdesk.core.db import read_rows
from supportdesk.reports.calendar import Period, slot_seconds, slot_to_period
from supportdesk.reports.filters import ReportFilters
from supportdesk.reports.policy import ReportScope
from supportdesk.reports.sql import seconds_between, slot_of
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import BREACHED_SQL, Category, EventKind, Ticket, TicketEvent, status_in

TOP_CATEGORIES = 10


@dataclass(frozen=True)
class Volume:
    periods: list[Period]
    created: list[int]
    resolved: list[int]


@dataclass(frozen=True)
class Backlog:
    periods: list[Period]
    counts: list[dict[tuple[int | None, Status], int]]  # per period: (team id, status) -> open tickets


@dataclass(frozen=True)
class Durations:
    count: int
    median: float | None  # seconds
    p90: float | None


@dataclass(frozen=True)
class Times:
    first_response: Durations
    resolution: Durations
    working_resolution: Durations  # tickets under a service level: working time on their clock


@dataclass(frozen=True)
class ServiceLevelFigures:
    team_id: int | None
    category_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    first_response_met: int
    first_response_breached: int
    resolution_met: int
    resolution_breached: int
    open_breached: int


@dataclass(frozen=True)
class TechnicianFigures:
    user_id: int
    name: str
    open_now: int
    resolved: int


@dataclass(frozen=True)
class CategoryFigures:
    category_id: int | None
    name: str | None  # None: tickets without a category
    created: int


class _Frame:
    """The periods of a report and how to count into them."""

    def __init__(self, filters: ReportFilters, zone: ZoneInfo) -> None:
        self.periods = filters.periods(zone)
        self.start, self.end = self.periods[0].start, self.periods[-1].end
        self.slot = slot_seconds(self.periods)
        self.origin = int(self.start.timestamp())
        self.slot_period = slot_to_period(self.periods, self.slot)

    def within(self, column: Column) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def period(self, slot: int) -> int | None:
        """The period a slot lies in; None after the range."""
        return self.slot_period[slot] if 0 <= slot < len(self.slot_period) else None


Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def _rows(session: Session, statement: Executable) -> Iterator[tuple[Any, ...]]:
    return (tuple(row) for row in read_rows(session, statement))


def _where(scope: ReportScope, filters: ReportFilters) -> list[ColumnElement[bool]]:
    terms = [scope.clause()]
    if filters.team_id is not None:
        terms.append(Ticket.team_id == filters.team_id)
    if filters.category_id is not None:
        terms.append(Ticket.category_id == filters.category_id)
    if filters.priority is not None:
        terms.append(Ticket.priority == filters.priority)
    return terms


def volume(session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo) -> Volume:
    frame = _Frame(filters, zone)
    where = _where(scope, filters)
    parts = []
    for kind, column in (("created", Ticket.created_at), ("resolved", Ticket.resolved_at)):
        slot = slot_of(column, frame.origin, frame.slot)
        parts.append(
            select(literal(kind).label("kind"), slot.label("slot"), func.count().label("n"))
            .where(frame.within(column), *where)
            .group_by(slot)
        )
    found: dict[str, list[int]] = {"created": [0] * len(frame.periods), "resolved": [0] * len(frame.periods)}
    for kind, slot_number, count in _rows(session, union_all(*parts)):
        period = frame.period(int(slot_number))
        if period is not None:
            found[kind][period] += count
    return Volume(frame.periods, found["created"], found["resolved"])


def backlog(session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo) -> Backlog:
    frame = _Frame(filters, zone)
    where = _where(scope, filters)
    state: Counter[tuple[int | None, str]] = Counter()
    current = (
        select(Ticket.team_id, Ticket.status, func.count())
        .where(status_in(ACTIVE_STATUSES), *where)
        .group_by(Ticket.team_id, Ticket.status)
    )
    for team, status, count in _rows(session, current):
        state[(team, Status(status))] += count
    # What changed since each period ended, undone from today's state: +1 to the new status for a
    # creation, -1 old / +1 new for a status change.
    slot = slot_of(TicketEvent.created_at, frame.origin, frame.slot)
    changes = (
        select(slot, Ticket.team_id, TicketEvent.old_value, TicketEvent.new_value, func.count())
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.kind.in_([EventKind.CREATED, EventKind.STATUS]),
            TicketEvent.created_at >= frame.start,
            *where,
        )
        .group_by(slot, Ticket.team_id, TicketEvent.old_value, TicketEvent.new_value)
    )
    undo: list[Counter[tuple[int | None, str]]] = [Counter() for _ in range(len(frame.periods) + 1)]
    for event_slot, team, old, new, count in _rows(session, changes):
        period = frame.period(int(event_slot))
        bucket = undo[len(frame.periods) if period is None else period]
        bucket[(team, new)] -= count
        if old is not None:
            bucket[(team, old)] += count
    counts: list[dict[tuple[int | None, Status], int]] = []
    totals: Counter[tuple[int | None, str]] = Counter(state)
    totals.update(undo[-1])
    for period in reversed(range(len(frame.periods))):
        counts.append(
            {
                (team, Status(status)): n
                for (team, status), n in totals.items()
                if n and status in _ACTIVE_VALUES
            }
        )
        totals.update(undo[period])
    counts.reverse()
    return Backlog(frame.periods, counts)


_ACTIVE_VALUES = frozenset(status.value for status in ACTIVE_STATUSES)


def times(session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo) -> Times:
    frame = _Frame(filters, zone)
    where = _where(scope, filters)
    response = seconds_between(Ticket.first_response_at, Ticket.created_at)
    resolution = seconds_between(Ticket.resolved_at, Ticket.created_at)
    return Times(
        first_response=_durations(
            session,
            response,
            [frame.within(Ticket.created_at), Ticket.first_response_at.is_not(None), *where],
        ),
        resolution=_durations(session, resolution, [frame.within(Ticket.resolved_at), *where]),
        working_resolution=_durations(
            session,
            cast(Ticket.sla_worked_seconds, Float),
            [frame.within(Ticket.resolved_at), Ticket.sla_policy_id.is_not(None), *where],
        ),
    )


def service_levels(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo
) -> list[ServiceLevelFigures]:
    frame = _Frame(filters, zone)
    where = [Ticket.sla_policy_id.is_not(None), *_where(scope, filters)]
    group = (Ticket.team_id, Ticket.category_id, Ticket.assignee_id, User.full_name)

    def outcome(kind: int, flag: InstrumentedAttribute[bool | None], *condition: ColumnElement[bool]) -> Any:
        # Met (False) and breached (True) counted apart; an undecided target (None) counts in neither.
        return (
            select(
                literal(kind).label("kind"),
                *group,
                func.sum(case((flag.is_(False), 1), else_=0)).label("met"),
                func.sum(case((flag.is_(True), 1), else_=0)).label("breached"),
            )
            .outerjoin(User, User.id == Ticket.assignee_id)
            .where(flag.is_not(None), *condition, *where)
            .group_by(*group)
        )

    # Written as the partial index's predicate, word for word, so both databases use it.
    breached_now: ColumnElement[bool] = literal_column(BREACHED_SQL)
    parts = [
        outcome(0, Ticket.first_response_breached, frame.within(Ticket.created_at)),
        outcome(1, Ticket.resolution_breached, frame.within(Ticket.resolved_at)),
        select(literal(2).label("kind"), *group, literal(0).label("met"), func.count().label("breached"))
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(breached_now, *where)
        .group_by(*group),
    ]
    figures: dict[tuple[int | None, int | None, int | None], list[int]] = {}
    names: dict[int | None, str | None] = {}
    for kind, team, category, assignee, name, met, breached in _rows(session, union_all(*parts)):
        counts = figures.setdefault((team, category, assignee), [0] * 5)
        names[assignee] = name
        if kind == 2:
            counts[4] += int(breached)
        else:
            counts[2 * kind] += int(met)
            counts[2 * kind + 1] += int(breached)
    return [
        ServiceLevelFigures(team, category, assignee, names[assignee], *counts)
        for (team, category, assignee), counts in figures.items()
        if any(counts)
    ]


def _durations(session: Session, value: ColumnElement[float], where: list[ColumnElement[bool]]) -> Durations:
    if session.get_bind().dialect.name == "postgresql":
        # The database sorts and interpolates; only three numbers travel.
        statement = select(
            func.count(),
            func.percentile_cont(0.5).within_group(value),
            func.percentile_cont(0.9).within_group(value),
        ).where(*where)
        count, median, p90 = tuple(read_rows(session, statement).one())
        return Durations(
            count, None if median is None else float(median), None if p90 is None else float(p90)
        )
    values = sorted(float(v) for v in read_rows(session, select(value).where(*where)).scalars())
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The value at `fraction` of a sorted list, interpolating linearly between the closest ranks
    (PostgreSQL's percentile_cont)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def technicians(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo
) -> list[TechnicianFigures]:
    frame = _Frame(filters, zone)
    where = _where(scope, filters)
    names: dict[int, str] = {}
    figures: dict[int, list[int]] = {}
    parts = [
        select(literal(index).label("kind"), Ticket.assignee_id, User.full_name, func.count().label("n"))
        .join(User, User.id == Ticket.assignee_id)
        .where(condition, *where)
        .group_by(Ticket.assignee_id, User.full_name)
        for index, condition in enumerate((status_in(ACTIVE_STATUSES), frame.within(Ticket.resolved_at)))
    ]
    for kind, user_id, name, count in _rows(session, union_all(*parts)):
        names[user_id] = name
        figures.setdefault(user_id, [0, 0])[kind] = count
    rows = [
        TechnicianFigures(user_id, names[user_id], load, done) for user_id, (load, done) in figures.items()
    ]
    return sorted(rows, key=lambda row: (-row.open_now, -row.resolved, row.name))


def top_categories(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, limit: int = TOP_CATEGORIES
) -> list[CategoryFigures]:
    frame = _Frame(filters, zone)
    count = func.count().label("created")
    statement = (
        select(Ticket.category_id, Category.name, count)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .where(frame.within(Ticket.created_at), *_where(scope, filters))
        .group_by(Ticket.category_id, Category.name)
        .order_by(count.desc(), Category.name.is_(None), Category.name)
        .limit(limit)
    )
    return [
        CategoryFigures(category_id, name, created)
        for category_id, name, created in _rows(session, statement)
    ]
