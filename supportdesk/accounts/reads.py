"""Who is who, for the pages that pick people: plain rows, never ORM objects, with a bounded size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.models import User
from supportdesk.core.db import read_rows

PICKER_SIZE = 8
SEARCH_MAX = 100


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    full_name: str
    email: str


def like_escape(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\' (a typed % or _ is not a wildcard)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_person(text: str) -> ColumnElement[bool]:
    """Part of a name or an email address, in any case."""
    pattern = f"%{like_escape(text.strip().lower())}%"
    return or_(func.lower(User.full_name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\"))


def find_people(session: Session, actor: User, text: str, limit: int = PICKER_SIZE) -> list[Person]:
    """Active users whose name or email contains `text`, for the desk's requester picker: a ticket is
    raised for an employee, a colleague on the desk or an admin alike."""
    policy.require_desk_member(actor)
    text = text.strip()[:SEARCH_MAX]
    if not text:
        return []
    statement = (
        select(User.id, User.full_name, User.email)
        .where(User.is_active.is_(True), matches_person(text))
        .order_by(func.lower(User.full_name), User.id)
        .limit(limit)
    )
    return [Person(row.id, row.full_name, row.email) for row in read_rows(session, statement)]


def person(session: Session, actor: User, user_id: int) -> Person | None:
    """An active user by id, as the picker showed them (after a refused form, say)."""
    policy.require_desk_member(actor)
    row = read_rows(
        session,
        select(User.id, User.full_name, User.email).where(User.id == user_id, User.is_active.is_(True)),
    ).one_or_none()
    return None if row is None else Person(row.id, row.full_name, row.email)
