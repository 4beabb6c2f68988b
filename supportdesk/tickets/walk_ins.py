"""Who a ticket raised by the desk is for, when the technician names a person who has no account yet."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import User
from supportdesk.tickets import service


def requester_for_new_person(
    session: Session, actor: User, *, email: str, full_name: str, creation_key: str | None
) -> int:
    """The requester's id: added now, or, when this is a retry of a request that already raised its
    ticket (the same Idempotency-Key), the person that first attempt added; the ticket service then
    answers with the first ticket, or refuses the key if the request is not the same."""
    if creation_key is not None and service.created_with_key(session, actor, creation_key) is not None:
        known = accounts.find_user_by_email(session, email)
        if known is not None:
            return known.id
    return accounts.add_requester(session, actor, email=email, full_name=full_name).id
