"""The desk's built-in queue views and their counts.

Counts come from one query over the tickets that are not closed (the `status` index keeps closed
tickets, the bulk of any desk, out of it) and are cached briefly per actor, so a busy desk does not
recount on every page view; a committed ticket change drops them (`core.caching`)."""

from __future__ import annotations

import enum
from datetime import timedelta

from sqlalchemy import ColumnElement, ScalarSelect, case, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Team, User
from supportdesk.core import clock
from supportdesk.core.caching import BriefCache
from supportdesk.core.errors import NotFound
from supportdesk.sla import reads as sla_reads
from supportdesk.tickets import policy, reads
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import Ticket, status_in
from supportdesk.tickets.paging import Assignee, DueFilter, Sort, TicketFilters
from supportdesk.tickets.reads import teams_of

RECENTLY_RESOLVED = timedelta(days=7)
COUNT_TTL_SECONDS = 10.0


class QueueView(enum.StrEnum):
    UNASSIGNED = "unassigned"
    MINE = "mine"
    MY_TEAMS = "my-teams"
    ALL_OPEN = "open"
    WAITING = "waiting"
    RECENTLY_RESOLVED = "resolved"
    AT_RISK = "at-risk"
    BREACHED = "breached"

    @property
    def label(self) -> str:
        return VIEW_LABELS[self]


VIEW_LABELS = {
    QueueView.UNASSIGNED: "Unassigned",
    QueueView.MINE: "Mine",
    QueueView.MY_TEAMS: "My teams",
    QueueView.ALL_OPEN: "All open",
    QueueView.WAITING: "Pending / on hold",
    QueueView.RECENTLY_RESOLVED: "Recently resolved",
    QueueView.AT_RISK: "At risk",
    QueueView.BREACHED: "Breached",
}


SERVICE_LEVEL_VIEWS = frozenset({QueueView.AT_RISK, QueueView.BREACHED})


def views_for(service_levels_in_use: bool) -> list[QueueView]:
    """The views a desk shows: those about due times only once it has service levels."""
    return [v for v in QueueView if service_levels_in_use or v not in SERVICE_LEVEL_VIEWS]


def view_filters(view: QueueView) -> TicketFilters:
    """The filters a view stands for; the user's own filters narrow it further."""
    active = frozenset(ACTIVE_STATUSES)
    return {
        QueueView.UNASSIGNED: TicketFilters(statuses=active, assignee=Assignee.NOBODY),
        QueueView.MINE: TicketFilters(statuses=active, assignee=Assignee.ME),
        QueueView.MY_TEAMS: TicketFilters(statuses=active, my_teams=True),
        QueueView.ALL_OPEN: TicketFilters(statuses=active),
        QueueView.WAITING: TicketFilters(statuses=frozenset({Status.PENDING, Status.ON_HOLD})),
        QueueView.RECENTLY_RESOLVED: TicketFilters(
            statuses=frozenset({Status.RESOLVED}), updated_since=clock.now() - RECENTLY_RESOLVED
        ),
        QueueView.AT_RISK: TicketFilters(statuses=active, due=DueFilter.AT_RISK),
        QueueView.BREACHED: TicketFilters(statuses=active, due=DueFilter.BREACHED),
    }[view]


# Dropped when this process commits any ticket or team change (team membership moves "My teams").
_counts: BriefCache[tuple[int, int], dict[QueueView, int]] = BriefCache(
    COUNT_TTL_SECONDS, depends_on=(Ticket, Team)
)


def queue_counts(session: Session, actor: User, *, fresh: bool = False) -> dict[QueueView, int]:
    if not policy.may_use_desk(actor):
        raise NotFound("This page is for the support desk.")
    key = (id(session.get_bind()), actor.id)
    return _counts.get(key, lambda: _count(session, actor), fresh=fresh)


def _count(session: Session, actor: User) -> dict[QueueView, int]:
    """One statement. The active views read only the covering partial index of active tickets
    (`ix_tickets_active_counts`, an index-only scan: no table rows, however many closed tickets there
    are); recently resolved is a short range of the status/update-time index."""
    in_my_teams = Ticket.team_id.in_(teams_of(actor))

    def tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    recently_resolved = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.status == Status.RESOLVED,
            Ticket.updated_at >= clock.now() - RECENTLY_RESOLVED,
            policy.ticket_scope(actor),
        )
        .scalar_subquery()
    )
    now = clock.now()
    warnings = sla_reads.warning_groups(session)

    def due_count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
        # A short range of the partial index of active tickets by due time.
        return (
            select(func.count())
            .select_from(Ticket)
            .where(status_in(ACTIVE_STATUSES), *conditions, policy.ticket_scope(actor))
            .scalar_subquery()
        )

    row = session.execute(
        select(
            tally(Ticket.assignee_id.is_(None)),
            tally(Ticket.assignee_id == actor.id),
            tally(in_my_teams),
            func.count(),
            tally(Ticket.status.in_([Status.PENDING, Status.ON_HOLD])),
            recently_resolved,
            due_count(*sla_reads.at_risk_conditions(warnings, now, lambda m: now + timedelta(minutes=m))),
            due_count(Ticket.next_due_at < now),
        ).where(status_in(ACTIVE_STATUSES), policy.ticket_scope(actor))
    ).one()
    return dict(zip(QueueView, (int(v) for v in row), strict=True))


def next_ticket(session: Session, actor: User, view: QueueView, number: int) -> int | None:
    """The number of the ticket after ticket `number` in `view` (in the view's order, as it is now:
    a ticket just answered moves to the top, and the one after it is what was below it)."""
    return reads.ticket_after(session, actor, view_filters(view), Sort(), number)
