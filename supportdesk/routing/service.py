"""Routing a new ticket to a team, and assigning a ticket automatically when it arrives in a team.
Both run inside the caller's unit of work (the ticket's creation, or its move to the team).

Concurrency: an automatic assignment first locks the team's assignment row (a team's assignments take
turns), then the candidates' availability rows in id order (two teams sharing a technician take turns
on them; the fixed order cannot deadlock), and only then counts their open tickets, in a statement of
its own, so it sees every assignment committed before its locks were granted. Two tickets created at
once therefore never both take a technician's last slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User, active_staff, team_members
from supportdesk.core.caching import BriefCache
from supportdesk.routing import lifecycle
from supportdesk.routing.lifecycle import Candidate, Rule
from supportdesk.routing.models import AssignmentMode, Availability, RoutingRule, TeamAssignment
from supportdesk.tickets.changes import record_event
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES
from supportdesk.tickets.models import EventKind, Ticket, status_in

# Read on every new ticket, changed a few times a year: once a minute per process at most, dropped
# when this process commits a change to them.
_rules: BriefCache[int, tuple[Rule, ...]] = BriefCache(60.0, depends_on=(RoutingRule,))


def rules(session: Session, *, fresh: bool = False) -> tuple[Rule, ...]:
    return _rules.get(id(session.get_bind()), lambda: _load_rules(session), fresh=fresh)


def _load_rules(session: Session) -> tuple[Rule, ...]:
    with session.no_autoflush:
        rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()
    return tuple(
        Rule(
            id=r.id, category_id=r.category_id, keywords=lifecycle.keywords_of(r.keywords), team_id=r.team_id
        )
        for r in rows
    )


def team_for_new_ticket(session: Session, subject: str, category_id: int | None) -> int | None:
    """The team the routing rules pick for a new ticket (None: no rule matches)."""
    known = rules(session)
    return lifecycle.route(known, subject, category_id) if known else None


def assign_automatically(session: Session, ticket: Ticket, now: datetime) -> User | None:
    """Give the unassigned, open ticket to a technician of its team, as the team's setting says; the
    technician, or None when the team assigns nothing or nobody has room. Records the assignment as
    the system's (an audit event without an actor), which tells the technician."""
    team_id = ticket.team.id if ticket.team is not None else ticket.team_id
    if team_id is None or ticket.assignee is not None or ticket.status not in ACTIVE_STATUSES:
        return None
    setting = session.scalar(
        select(TeamAssignment).where(TeamAssignment.team_id == team_id).with_for_update()
    )
    if setting is None or setting.mode is AssignmentMode.OFF:
        return None
    available = list(
        session.scalars(
            select(Availability.user_id)
            .join(team_members, team_members.c.user_id == Availability.user_id)
            .join(User, User.id == Availability.user_id)
            .where(team_members.c.team_id == team_id, Availability.available.is_(True), active_staff())
            .order_by(Availability.user_id)
            .with_for_update(of=Availability)
        )
    )
    if not available:
        return None
    rows = session.execute(
        select(Ticket.assignee_id, func.count())
        .where(status_in(ACTIVE_STATUSES), Ticket.assignee_id.in_(available))
        .group_by(Ticket.assignee_id)
    )
    counts = {assignee_id: int(count) for assignee_id, count in rows}
    chosen = lifecycle.choose_assignee(
        setting.mode,
        [Candidate(user_id, int(counts.get(user_id, 0))) for user_id in available],
        setting.max_open,
        setting.last_user_id,
    )
    if chosen is None:
        return None
    user = session.get(User, chosen)
    if user is None:
        return None
    record_event(ticket, None, EventKind.ASSIGNEE, None, str(user.id), now)
    ticket.assignee = user
    setting.last_user_id = user.id
    return user
