"""Reading the admin audit log: newest first, filtered, a page at a time by keyset (the id of the last
entry shown), so the thousandth page costs what the first does. Plain rows, admins only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.audit import ACTIONS, AuditEntry
from supportdesk.accounts.audit_schemas import AuditQuery
from supportdesk.accounts.models import User
from supportdesk.accounts.reads import like_escape
from supportdesk.core.db import read_rows

EXPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str | None
    ip: str | None
    user_agent: str | None
    via: str
    action: str
    target_type: str
    target_id: int | None
    target_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def changed(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field the entry names."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])]


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: list[AuditRow]
    next_before: int | None  # the cursor of the next, older page


_COLUMNS = (
    AuditEntry.id,
    AuditEntry.created_at,
    AuditEntry.actor_id,
    AuditEntry.actor_label,
    AuditEntry.ip,
    AuditEntry.user_agent,
    AuditEntry.via,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.target_label,
    AuditEntry.before,
    AuditEntry.after,
)


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return func.lower(column).like(f"%{like_escape(text.strip().lower())}%", escape="\\")


def _filtered(query: AuditQuery) -> Select[Any]:
    statement = select(*_COLUMNS)
    if query.actor.strip():
        statement = statement.where(_contains(AuditEntry.actor_label, query.actor))
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.target.strip():
        statement = statement.where(_contains(AuditEntry.target_label, query.target))
    if query.since is not None:
        statement = statement.where(AuditEntry.created_at >= datetime.combine(query.since, time(), UTC))
    if query.until is not None:
        end = datetime.combine(query.until + timedelta(days=1), time(), UTC)
        statement = statement.where(AuditEntry.created_at < end)
    return statement


def audit_page(session: Session, actor: User, query: AuditQuery) -> AuditPage:
    policy.require_desk_manager(actor)
    statement = _filtered(query)
    if query.before is not None:
        statement = statement.where(AuditEntry.id < query.before)
    found = [
        AuditRow(**row._asdict())
        for row in read_rows(session, statement.order_by(AuditEntry.id.desc()).limit(query.size + 1))
    ]
    more = len(found) > query.size
    rows = found[: query.size]
    return AuditPage(rows, rows[-1].id if more else None)


def every_entry(session: Session, actor: User, query: AuditQuery) -> Iterator[AuditRow]:
    """Every entry the filters match, newest first, read a batch at a time (the CSV export)."""
    policy.require_desk_manager(actor)
    statement = _filtered(query).order_by(AuditEntry.id.desc()).limit(EXPORT_BATCH)
    before = query.before
    while True:
        batch = statement if before is None else statement.where(AuditEntry.id < before)
        rows = [AuditRow(**row._asdict()) for row in read_rows(session, batch)]
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        before = rows[-1].id
