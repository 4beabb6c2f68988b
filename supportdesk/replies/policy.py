"""Who may use and keep canned replies: the desk uses its own and the shared ones; a technician keeps
their own; the admins keep the shared ones. Another's personal reply does not exist for anyone else."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from supportdesk.accounts import policy as accounts
from supportdesk.accounts.models import User
from supportdesk.core.errors import NotFound, PermissionDenied
from supportdesk.replies.models import CannedReply


def require_desk(actor: User) -> None:
    if not accounts.may_use_desk(actor):
        raise PermissionDenied("Canned replies are for the support desk.")


def usable_by(actor: User) -> ColumnElement[bool]:
    """The replies `actor` may see and insert, as a WHERE clause: the shared ones and their own."""
    return or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == actor.id)


def may_keep_shared(actor: User) -> bool:
    return accounts.may_manage_desk(actor)


def require_keeper(actor: User, reply: CannedReply | None, reply_id: int) -> CannedReply:
    """The reply, if `actor` may change or delete it."""
    require_desk(actor)
    if reply is None or (reply.owner_id is not None and reply.owner_id != actor.id):
        raise NotFound(f"Canned reply {reply_id} was not found.")
    if reply.shared and not may_keep_shared(actor):
        raise PermissionDenied("Only admins can change the shared canned replies.")
    return reply
