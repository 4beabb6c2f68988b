"""Which notifications a user wants by email (all, until they say otherwise). The in-app list always
gets every one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.errors import ValidationError
from supportdesk.notifications.models import EmailSetting, NotificationKind

LABELS = {
    NotificationKind.CREATED: "The confirmation when I raise a ticket",
    NotificationKind.REPLY: "A reply on a ticket I raised, work or watch",
    NotificationKind.RESOLVED: "A ticket I raised or watch is resolved",
    NotificationKind.ASSIGNED: "A ticket assigned to me",
    NotificationKind.NOTE: "An internal note on a ticket I work or watch",
    NotificationKind.SLA_WARNING: "A ticket I (or my team) have falls due soon",
    NotificationKind.SLA_BREACH: "A ticket I have, or my team's as its lead, missed a target",
}
STAFF_ONLY = {
    NotificationKind.ASSIGNED,
    NotificationKind.NOTE,
    NotificationKind.SLA_WARNING,
    NotificationKind.SLA_BREACH,
}


# Told in the app only, never by email: nothing to choose.
IN_APP_ONLY = {NotificationKind.EXPORT_READY}


def kinds_for(user: User) -> list[NotificationKind]:
    """The kinds of email the user may turn on or off."""
    return [
        kind
        for kind in NotificationKind
        if kind not in IN_APP_ONLY and (user.is_staff or kind not in STAFF_ONLY)
    ]


def email_choices(session: Session, user: User) -> dict[NotificationKind, bool]:
    off = set(
        session.scalars(
            select(EmailSetting.kind).where(EmailSetting.user_id == user.id, EmailSetting.enabled.is_(False))
        )
    )
    return {kind: kind not in off for kind in kinds_for(user)}


def set_email_preferences(session: Session, user: User, choices: Mapping[NotificationKind, bool]) -> None:
    """The user's own choices (kinds left out keep theirs)."""
    for kind, enabled in choices.items():
        if kind not in kinds_for(user):
            continue
        setting = session.get(EmailSetting, (user.id, kind))
        if setting is None:
            session.add(EmailSetting(user_id=user.id, kind=kind, enabled=enabled))
        else:
            setting.enabled = enabled
    session.flush()


def choose_by_email(session: Session, user: User, wanted: set[str]) -> None:
    """The settings form: exactly the kinds named come by email, the user's other kinds do not. A kind
    this user cannot get is refused (nothing is saved)."""
    offered = {kind.value: kind for kind in kinds_for(user)}
    unknown = sorted(wanted - set(offered))
    if unknown:
        raise ValidationError.single("email", f"Not a choice for your account: {', '.join(unknown)}.")
    set_email_preferences(session, user, {kind: value in wanted for value, kind in offered.items()})


def not_by_email(session: Session, user_ids: Iterable[int], kind: NotificationKind) -> set[int]:
    """Of these users, those who turned this kind of email off."""
    ids = list(user_ids)
    if not ids:
        return set()
    query = select(EmailSetting.user_id).where(
        EmailSetting.user_id.in_(ids), EmailSetting.kind == kind, EmailSetting.enabled.is_(False)
    )
    return set(session.scalars(query))


def wants_email(session: Session, user: User, kind: NotificationKind) -> bool:
    return user.id not in not_by_email(session, [user.id], kind)
