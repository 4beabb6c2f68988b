"""Who may rate: the person who raised the ticket, while their account is active, and only if they are
not on the desk (technicians and admins never rate or change a rating, not even on a ticket of their
own: the figures are the served people's voice). Who reads ratings: whoever sees the ticket."""

from __future__ import annotations

from supportdesk.accounts.models import User


def may_rate(actor: User, requester_id: int) -> bool:
    return actor.is_active and not actor.is_staff and actor.id == requester_id


REFUSAL = "Only the person who raised the ticket can rate its answer."
