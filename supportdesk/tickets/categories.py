"""Ticket categories and the team each routes to by default."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from supportdesk.accounts import policy
from supportdesk.accounts.models import Team, User
from supportdesk.accounts.service import clean_name
from supportdesk.core.db import flush_unique, get_by_id
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.tickets.models import Category


def list_categories(session: Session, *, active_only: bool = True) -> list[Category]:
    query = select(Category).options(joinedload(Category.default_team)).order_by(Category.name)
    if active_only:
        query = query.where(Category.is_active.is_(True))
    return list(session.scalars(query))


def categories_for(session: Session, actor: User) -> list[Category]:
    """The categories `actor` may pick (active ones), or every one for the admins who manage them."""
    return list_categories(session, active_only=not policy.may_manage_desk(actor))


def create_category(session: Session, actor: User, name: str, default_team_id: int | None = None) -> Category:
    policy.require_desk_manager(actor)
    category = Category(name=clean_name(name), default_team=_team(session, default_team_id), is_active=True)
    session.add(category)
    flush_unique(session, "name", "a category with this name already exists")
    return category


def update_category(
    session: Session,
    actor: User,
    category_id: int,
    *,
    name: str | None = None,
    default_team_id: int | None = None,
    clear_default_team: bool = False,
    is_active: bool | None = None,
) -> Category:
    policy.require_desk_manager(actor)
    category = get_by_id(session, Category, category_id)
    if category is None:
        raise NotFound(f"Category {category_id} was not found.")
    # Everything checked before anything changes.
    new_name = clean_name(name) if name is not None else None
    team = _team(session, default_team_id) if default_team_id is not None and not clear_default_team else None
    if new_name is not None:
        category.name = new_name
    if clear_default_team:
        category.default_team = None
    elif team is not None:
        category.default_team = team
    if is_active is not None:
        category.is_active = is_active
    flush_unique(session, "name", "a category with this name already exists")
    return category


def _team(session: Session, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = get_by_id(session, Team, team_id)
    if team is None:
        raise ValidationError.single("default_team_id", "no team has this id")
    return team
