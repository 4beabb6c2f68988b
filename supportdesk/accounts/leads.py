"""A team's leads: members the admins name, told when one of the team's tickets breaches a target."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.models import Team, User, team_members
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import NotFound, ValidationError


def lead_ids(session: Session, team_ids: Iterable[int]) -> set[int]:
    """The ids of the leads of these teams."""
    ids = sorted(set(team_ids))
    if not ids:
        return set()
    query = select(team_members.c.user_id).where(
        team_members.c.team_id.in_(ids), team_members.c.is_lead.is_(True)
    )
    return set(session.scalars(query))


def lead_ids_by_team(session: Session, team_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = sorted(set(team_ids))
    found: dict[int, set[int]] = {}
    if not ids:
        return found
    query = select(team_members.c.team_id, team_members.c.user_id).where(
        team_members.c.team_id.in_(ids), team_members.c.is_lead.is_(True)
    )
    for team_id, user_id in session.execute(query):
        found.setdefault(team_id, set()).add(user_id)
    return found


def leads_of(session: Session, team_ids: Iterable[int]) -> list[User]:
    ids = lead_ids(session, team_ids)
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name))) if ids else []


def set_team_lead(session: Session, actor: User, team_id: int, user_id: int, *, lead: bool) -> None:
    """Make a member one of the team's leads, or no longer one (admins only)."""
    policy.require_desk_manager(actor)
    if get_by_id(session, Team, team_id) is None:
        raise NotFound(f"Team {team_id} was not found.")
    member = and_(team_members.c.team_id == team_id, team_members.c.user_id == user_id)
    if session.scalar(select(team_members.c.user_id).where(member)) is None:
        raise ValidationError.single("user_id", "a team's lead must be one of its members: add them first")
    session.execute(update(team_members).where(member).values(is_lead=lead))
    session.flush()


def set_leads(session: Session, actor: User, team_id: int, lead_ids: Iterable[int]) -> None:
    """Exactly these members are the team's leads (admins only); a non-member is refused."""
    policy.require_desk_manager(actor)
    if get_by_id(session, Team, team_id) is None:
        raise NotFound(f"Team {team_id} was not found.")
    wanted = set(lead_ids)
    members = set(session.scalars(select(team_members.c.user_id).where(team_members.c.team_id == team_id)))
    if wanted - members:
        raise ValidationError.single("lead_ids", "a team's lead must be one of its members: add them first")
    in_team = team_members.c.team_id == team_id
    session.execute(update(team_members).where(in_team).values(is_lead=team_members.c.user_id.in_(wanted)))
    session.flush()
