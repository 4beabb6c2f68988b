"""Factories for test data. Users share one precomputed password hash: argon2 is slow on purpose."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from supportdesk.accounts.models import Role, Team, User
from supportdesk.accounts.passwords import hash_password
from supportdesk.tickets import service
from supportdesk.tickets.models import Category, Ticket

PASSWORD = "password123"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_user(session: Session, role: Role = Role.REQUESTER, **fields: Any) -> User:
    n = next(_counter)
    user = User(
        email=fields.pop("email", f"user{n}@example.com"),
        full_name=fields.pop("full_name", f"{role.value.capitalize()} {n}"),
        role=role,
        password_hash=_password_hash(),
        is_active=fields.pop("is_active", True),
        **fields,
    )
    session.add(user)
    session.commit()
    return user


def make_requester(session: Session, **fields: Any) -> User:
    return make_user(session, Role.REQUESTER, **fields)


def make_technician(session: Session, **fields: Any) -> User:
    return make_user(session, Role.TECHNICIAN, **fields)


def make_admin(session: Session, **fields: Any) -> User:
    return make_user(session, Role.ADMIN, **fields)


def make_team(session: Session, name: str | None = None, members: list[User] | None = None) -> Team:
    team = Team(name=name or f"Team {next(_counter)}", members=members or [])
    session.add(team)
    session.commit()
    return team


def make_category(
    session: Session, name: str | None = None, team: Team | None = None, active: bool = True
) -> Category:
    category = Category(name=name or f"Category {next(_counter)}", default_team=team, is_active=active)
    session.add(category)
    session.commit()
    return category


def make_ticket(
    session: Session, requester: User, subject: str = "Printer is on fire", **fields: Any
) -> Ticket:
    ticket = service.create_ticket(
        session,
        requester,
        subject=subject,
        description=fields.pop("description", "It smells of toner."),
        **fields,
    )
    session.commit()
    return ticket


ROUND_THE_CLOCK = {str(day): [[0, 24 * 60]] for day in range(7)}


def make_calendar(
    session: Session,
    name: str | None = None,
    zone: str = "UTC",
    weekly: dict[str, Any] | None = None,
    holidays: list[str] | None = None,
) -> Any:
    """A business calendar (every hour of every day unless `weekly` says otherwise)."""
    from supportdesk.sla.models import BusinessCalendar

    calendar = BusinessCalendar(
        name=name or f"Calendar {next(_counter)}",
        zone=zone,
        weekly=ROUND_THE_CLOCK if weekly is None else weekly,
        holidays=holidays or [],
    )
    session.add(calendar)
    session.commit()
    return calendar


def make_policy(session: Session, calendar: Any = None, name: str | None = None, **fields: Any) -> Any:
    """A service-level policy on `calendar` (a round-the-clock one when not given); the cached
    policies are read again so the next ticket change sees it."""
    from supportdesk.sla.models import SlaPolicy
    from supportdesk.sla.service import policies

    calendar = calendar or make_calendar(session)
    policy = SlaPolicy(
        name=name or f"Policy {next(_counter)}",
        position=fields.pop("position", next(_counter)),
        calendar_id=calendar.id,
        **fields,
    )
    session.add(policy)
    session.commit()
    policies(session, fresh=True)
    return policy
