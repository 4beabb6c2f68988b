"""What deleting a team does to the desk's tickets: they move to the team the admin chose (or to no
team), each with an audit event, in the same unit of work; the categories that routed to it route
there instead. A team a service-level policy or a routing rule still names is kept: silently dropping
that rule (the foreign keys would) would change who gets which ticket without anyone deciding it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from supportdesk.accounts import audit, policy
from supportdesk.accounts.models import Team, User
from supportdesk.core import clock
from supportdesk.core.db import get_by_id, read_rows
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.routing.models import RoutingRule
from supportdesk.sla import settings as service_levels
from supportdesk.sla.models import SlaPolicy
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES
from supportdesk.tickets.models import Category, EventKind, Ticket, TicketEvent, status_in


@dataclass(frozen=True, slots=True)
class TeamRemoved:
    name: str
    tickets: int
    categories: int
    moved_to: str | None


def ticket_counts(session: Session, actor: User) -> dict[int, int]:
    """How many tickets (any status) each team has, for the admins' teams page."""
    policy.require_desk_manager(actor)
    statement = (
        select(Ticket.team_id, func.count().label("tickets"))
        .where(Ticket.team_id.is_not(None))
        .group_by(Ticket.team_id)
    )
    return {row.team_id: row.tickets for row in read_rows(session, statement)}


def delete_team(
    session: Session, actor: User, team_id: int, *, move_to_id: int | None, origin: Origin | None = None
) -> TeamRemoved:
    policy.require_desk_manager(actor)
    team = get_by_id(session, Team, team_id)
    if team is None:
        raise NotFound(f"Team {team_id} was not found.")
    target = None
    if move_to_id is not None:
        target = get_by_id(session, Team, move_to_id)
        if target is None or target.id == team.id:
            raise ValidationError.single("move_to", "choose another team, or no team")
    _refuse_while_named(session, team)
    now = clock.now()
    moved = _ticket_ids(session, team.id)
    if moved:
        # One audit event per ticket, as a change in the sidebar would write, then the move itself.
        session.execute(
            insert(TicketEvent).from_select(
                ["ticket_id", "actor_id", "kind", "old_value", "new_value", "created_at"],
                select(
                    Ticket.id,
                    literal(actor.id),
                    literal(EventKind.TEAM.value),
                    literal(str(team.id)),
                    literal(None if target is None else str(target.id)),
                    literal(now, type_=TicketEvent.__table__.c.created_at.type),
                ).where(Ticket.team_id == team.id),
            )
        )
        session.execute(
            update(Ticket)
            .where(Ticket.team_id == team.id)
            .values(team_id=None if target is None else target.id, version=Ticket.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if _any_active(session, moved):
            service_levels.request_recompute(session)  # a team's own policies may now apply, or stop
    categories = session.scalar(
        select(func.count()).select_from(Category).where(Category.default_team_id == team.id)
    )
    session.execute(
        update(Category)
        .where(Category.default_team_id == team.id)
        .values(default_team_id=None if target is None else target.id)
        .execution_options(synchronize_session=False)
    )
    name = team.name
    audit.record(
        session,
        actor,
        origin,
        "team.deleted",
        target_type="team",
        target_id=team.id,
        target_label=name,
        before={"name": name, "members": sorted(m.email for m in team.members)},
        after={"tickets_moved_to": None if target is None else target.name, "tickets": len(moved)},
    )
    session.delete(team)
    session.flush()
    session.expire_all()
    return TeamRemoved(name, len(moved), categories or 0, None if target is None else target.name)


def _ticket_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(Ticket.id).where(Ticket.team_id == team_id)))


def _any_active(session: Session, ids: list[int]) -> bool:
    found = session.scalar(select(Ticket.id).where(Ticket.id.in_(ids), status_in(ACTIVE_STATUSES)).limit(1))
    return found is not None


def _refuse_while_named(session: Session, team: Team) -> None:
    policies = session.scalars(
        select(SlaPolicy.name).where(
            or_(SlaPolicy.team_id == team.id, SlaPolicy.escalate_to_team_id == team.id)
        )
    ).all()
    rules = session.scalars(select(RoutingRule.name).where(RoutingRule.team_id == team.id)).all()
    named = [f"service-level policy “{n}”" for n in policies] + [f"routing rule “{n}”" for n in rules]
    if named:
        raise ValidationError.single(
            "team", f"{team.name} is still named by {', '.join(named)}: change or delete those first"
        )
