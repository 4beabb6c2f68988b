"""Keeping canned replies: validate everything, then change, flush (the caller commits)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import FieldError, PermissionDenied, ValidationError
from supportdesk.replies import placeholders, policy
from supportdesk.replies.models import BODY_MAX, TITLE_MAX, CannedReply


def create_reply(
    session: Session, actor: User, *, title: str, body: str, shared: bool = False
) -> CannedReply:
    """A personal reply of the actor's, or (admins only) a shared one."""
    policy.require_desk(actor)
    if shared and not policy.may_keep_shared(actor):
        raise PermissionDenied("Only admins can add shared canned replies.", ("shared",))
    clean_title, clean_body = _checked(title, body)
    now = clock.now()
    reply = CannedReply(
        owner_id=None if shared else actor.id,
        title=clean_title,
        body=clean_body,
        created_at=now,
        updated_at=now,
    )
    session.add(reply)
    session.flush()
    return reply


def update_reply(
    session: Session, actor: User, reply_id: int, *, title: str | None = None, body: str | None = None
) -> CannedReply:
    reply = policy.require_keeper(actor, get_by_id(session, CannedReply, reply_id), reply_id)
    clean_title, clean_body = _checked(
        reply.title if title is None else title, reply.body if body is None else body
    )
    reply.title, reply.body, reply.updated_at = clean_title, clean_body, clock.now()
    session.flush()
    return reply


def delete_reply(session: Session, actor: User, reply_id: int) -> CannedReply:
    reply = policy.require_keeper(actor, get_by_id(session, CannedReply, reply_id), reply_id)
    session.delete(reply)
    session.flush()
    return reply


def _checked(title: str, body: str) -> tuple[str, str]:
    errors: list[FieldError] = []
    clean_title = " ".join(title.split())
    if not clean_title:
        errors.append(FieldError("title", "is required"))
    elif len(clean_title) > TITLE_MAX:
        errors.append(FieldError("title", f"must be at most {TITLE_MAX} characters"))
    clean_body = body.strip("\n")
    if not clean_body.strip():
        errors.append(FieldError("body", "is required"))
    elif len(clean_body) > BODY_MAX:
        errors.append(FieldError("body", f"must be at most {BODY_MAX:,} characters"))
    else:
        wrong = placeholders.unknown(clean_body)
        if wrong:
            names = ", ".join(f"{{{{ {name} }}}}" for name in wrong)
            errors.append(FieldError("body", f"unknown placeholder {names}; use {placeholders.known_list()}"))
    if errors:
        raise ValidationError(errors)
    return clean_title, clean_body
