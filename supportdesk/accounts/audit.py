"""The admin audit log: every change an admin makes to people, teams and the desk's settings (and every
change of how someone signs in), with who made it, when, from where, and the values before and after.

Services record an entry in the same unit of work as the change (a refused change records nothing),
with the origin their face handed them. Entries are append-only: there is no code path that changes or
removes one, the ORM refuses to, and on PostgreSQL a trigger refuses UPDATE and DELETE as well. Secrets
never go in: a changed password or key is recorded as CHANGED, never its value or hash."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import Base, UTCDateTime
from supportdesk.core.origin import SYSTEM, Origin

CHANGED = "(changed)"  # what a secret's new value is recorded as
# Field names whose value is a secret: recorded as CHANGED or not at all, anything else is a bug.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "password_encrypted", "secret", "secret_encrypted", "token", "token_hash"}
)

# What each action means, for the filter and the page (the stored value is the key).
ACTIONS: dict[str, str] = {
    "user.created": "User created",
    "user.invited": "User invited",
    "user.imported": "Users imported",
    "user.renamed": "User renamed",
    "user.email_changed": "Email changed",
    "user.role_changed": "Role changed",
    "user.teams_changed": "Teams of a user changed",
    "user.deactivated": "User deactivated",
    "user.reactivated": "User reactivated",
    "user.email_change_requested": "Email change requested",
    "user.temporary_password": "Temporary password set",
    "user.two_factor_reset": "Two-factor sign-in reset",
    "sign_in.two_factor_enabled": "Two-factor sign-in turned on",
    "sign_in.two_factor_disabled": "Two-factor sign-in turned off",
    "sign_in.provider_linked": "Linked to the identity provider",
    "team.created": "Team created",
    "team.renamed": "Team renamed",
    "team.members_changed": "Team members changed",
    "team.deleted": "Team deleted",
    "team.assignment_changed": "Team assignment changed",
    "routing_rule.created": "Routing rule created",
    "routing_rule.updated": "Routing rule changed",
    "routing_rule.deleted": "Routing rule deleted",
    "sla_policy.created": "Service-level policy created",
    "sla_policy.updated": "Service-level policy changed",
    "sla_policy.deleted": "Service-level policy deleted",
    "sla_calendar.created": "Business calendar created",
    "sla_calendar.updated": "Business calendar changed",
    "sla_calendar.deleted": "Business calendar deleted",
    "mailbox.created": "Mailbox created",
    "mailbox.updated": "Mailbox changed",
    "mailbox.deleted": "Mailbox deleted",
}

LABEL_MAX = 254


class AuditEntry(Base):
    """One change. The actor and the target are copied (id and a label), not foreign keys: the log
    outlives what it names, and deleting a team must not touch the entries about it."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_id_id", "actor_id", "id"),
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str | None] = mapped_column(String(LABEL_MAX))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(24))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(LABEL_MAX))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper: Mapper[Any], _connection: Any, target: AuditEntry) -> None:
    raise PermissionError(f"Audit entry {target.id} is append-only.")


def record(
    session: Session,
    actor: User | None,
    origin: Origin | None,
    action: str,
    *,
    target_type: str,
    target_id: int | None,
    target_label: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to the caller's unit of work (flushed with it)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    for values in (before or {}, after or {}):
        for key, value in values.items():
            if key in SECRET_FIELDS and value not in (CHANGED, None):
                raise ValueError(f"the audit log never records a secret ({key})")
    origin = origin or SYSTEM
    entry = AuditEntry(
        created_at=clock.now(),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else None,
        ip=origin.ip,
        user_agent=origin.user_agent,
        via=origin.via,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:LABEL_MAX],
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value changed, before and after."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record_changes(
    session: Session,
    actor: User | None,
    origin: Origin | None,
    action: str,
    *,
    target_type: str,
    target_id: int | None,
    target_label: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEntry | None:
    """An entry with the fields that changed; none when nothing did (a form saved as it was)."""
    old, new = changes(before, after)
    if not new:
        return None
    return record(
        session,
        actor,
        origin,
        action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=old,
        after=new,
    )


def record_user_fields(
    session: Session,
    actor: User | None,
    origin: Origin | None,
    user: User,
    was: dict[str, Any],
    now: dict[str, Any],
    actions: dict[str, str],
) -> None:
    """One entry per changed field of `user`, each under its own action (field -> action), so a role
    change and a deactivation are filtered apart; a field that did not change writes nothing."""
    for field, action in actions.items():
        record_changes(
            session,
            actor,
            origin,
            action,
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            before={field: was[field]},
            after={field: now[field]},
        )


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """These attributes of a settings object, as JSON values (enums by value, lists copied)."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name, None)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list | tuple):
            value = [v.value if isinstance(v, Enum) else v for v in value]
        elif isinstance(value, dict):
            value = dict(value)
        values[name] = value
    return values


def record_setting(
    session: Session,
    actor: User | None,
    origin: Origin | None,
    kind: str,
    obj: Any,
    fields: tuple[str, ...],
    was: dict[str, Any] | None,
) -> None:
    """A settings object (routing rule, policy, calendar, mailbox) created (`was` None) or changed."""
    now = snapshot(obj, fields)
    label = str(getattr(obj, "name", "") or f"#{obj.id}")
    if was is None:
        record(
            session,
            actor,
            origin,
            f"{kind}.created",
            target_type=kind,
            target_id=obj.id,
            target_label=label,
            after=now,
        )
    else:
        record_changes(
            session,
            actor,
            origin,
            f"{kind}.updated",
            target_type=kind,
            target_id=obj.id,
            target_label=label,
            before=was,
            after=now,
        )


def record_deleted(
    session: Session, actor: User | None, origin: Origin | None, kind: str, obj: Any, fields: tuple[str, ...]
) -> None:
    record(
        session,
        actor,
        origin,
        f"{kind}.deleted",
        target_type=kind,
        target_id=obj.id,
        target_label=str(getattr(obj, "name", "") or f"#{obj.id}"),
        before=snapshot(obj, fields),
    )
