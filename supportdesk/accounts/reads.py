"""Who is who, for the pages that pick people: plain rows, never ORM objects, with a bounded size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.identities import ExternalIdentity
from supportdesk.accounts.models import Role, User
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


# --- the admins' users page ------------------------------------------------------------------------

USER_PAGE_SIZE = 50
USER_STATUSES = ("active", "deactivated")


@dataclass(frozen=True, slots=True)
class UserQuery:
    text: str = ""
    role: Role | None = None
    status: str | None = None  # "active", "deactivated" or None for both
    page: int = 1
    size: int = USER_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    full_name: str
    email: str
    role: Role
    is_active: bool
    last_login_at: datetime | None
    # The company directory owns the account: name, email and role follow it, no local password.
    from_directory: bool = False
    # Linked to the OpenID Connect provider: the person signs in there (accounts/oidc.py).
    signs_in_with_provider: bool = False


@dataclass(frozen=True, slots=True)
class UserPage:
    rows: list[UserRow]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if not self.rows else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return (self.page - 1) * self.size + len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def user_page(session: Session, actor: User, query: UserQuery) -> UserPage:
    """One page of users by name, with the count of all that match: two statements whatever the size
    of the desk (a page past the end shows the last one)."""
    policy.require_desk_manager(actor)
    conditions: list[ColumnElement[bool]] = []
    text = query.text.strip()[:SEARCH_MAX]
    if text:
        conditions.append(matches_person(text))
    if query.role is not None:
        conditions.append(User.role == query.role)
    if query.status in USER_STATUSES:
        conditions.append(User.is_active.is_(query.status == "active"))
    size = max(1, min(query.size, 200))
    total = read_rows(session, select(func.count()).select_from(User).where(*conditions)).scalar_one()
    pages = max(1, -(-total // size))
    page = max(1, min(query.page, pages))
    statement = (
        select(
            User.id,
            User.full_name,
            User.email,
            User.role,
            User.is_active,
            User.last_login_at,
            DirectoryAccount.user_id.is_not(None).label("from_directory"),
            exists().where(ExternalIdentity.user_id == User.id).label("signs_in_with_provider"),
        )
        .outerjoin(DirectoryAccount, DirectoryAccount.user_id == User.id)
        .where(*conditions)
        .order_by(func.lower(User.full_name), User.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    rows = [
        UserRow(
            r.id,
            r.full_name,
            r.email,
            Role(r.role),
            r.is_active,
            r.last_login_at,
            bool(r.from_directory),
            bool(r.signs_in_with_provider),
        )
        for r in read_rows(session, statement)
    ]
    return UserPage(rows, total, page, size)
