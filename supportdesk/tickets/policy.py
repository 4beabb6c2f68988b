"""Who may see and change which ticket, field, comment and event: the one authorisation policy.

Every surface (pages, API, search, counts, attachments) starts from `visible_tickets` or asks one of
these functions, so a rule changes in one place only.
"""

from __future__ import annotations

import enum

from sqlalchemy import BindParameter, ColumnElement, Select, false, select, true

from supportdesk.accounts.models import User, active_staff
from supportdesk.accounts.policy import may_use_desk as may_use_desk
from supportdesk.tickets.models import Comment, Ticket

TICKET_FIELDS = frozenset({"status", "priority", "assignee_id", "team_id", "category_id", "subject"})
REQUESTER_FIELDS = frozenset({"status"})


class Reach(enum.Enum):
    """How far a user's sight reaches among tickets."""

    NOTHING = "nothing"  # a deactivated account
    OWN = "own"  # a requester: the tickets they raised
    EVERY = "every"  # the desk


def reach(actor: User) -> Reach:
    if not actor.is_active:
        return Reach.NOTHING
    return Reach.EVERY if actor.is_staff else Reach.OWN


def ticket_scope(actor: User) -> ColumnElement[bool]:
    """The WHERE clause that limits any ticket query to what `actor` may see."""
    return reach_clause(reach(actor), actor.id)


def reach_clause(sight: Reach, requester: int | BindParameter[int]) -> ColumnElement[bool]:
    """`ticket_scope` for a statement built once and run for many users: pass
    `bindparam("actor_id")` as the requester and the actor's id when running it."""
    if sight is Reach.NOTHING:
        return false()
    if sight is Reach.EVERY:
        return true()
    return Ticket.requester_id == requester


def visible_tickets(actor: User) -> Select[Ticket]:
    return select(Ticket).where(ticket_scope(actor))


def can_see_ticket(actor: User, ticket: Ticket) -> bool:
    """`ticket_scope` for a ticket in hand."""
    sight = reach(actor)
    return sight is Reach.EVERY or (sight is Reach.OWN and ticket.requester_id == actor.id)


def sees_internal_notes(actor: User) -> bool:
    """Internal notes (and their files) are for the desk only."""
    return actor.is_staff


def comment_scope(actor: User) -> ColumnElement[bool]:
    return comment_clause(sees_internal_notes(actor))


def comment_clause(with_notes: bool) -> ColumnElement[bool]:
    """`comment_scope` for a statement built once for every reader who does (or does not) see notes."""
    return true() if with_notes else Comment.internal.is_(False)


def can_see_comment(actor: User, comment: Comment) -> bool:
    return can_see_ticket(actor, comment.ticket) and (sees_internal_notes(actor) or not comment.internal)


def can_see_events(actor: User) -> bool:
    return actor.is_active and actor.is_staff


def refused_fields(actor: User, fields: set[str]) -> set[str]:
    """The fields among `fields` that `actor` may not change on a ticket they can see."""
    allowed = TICKET_FIELDS if actor.is_staff else REQUESTER_FIELDS
    return fields - allowed


def may_write_internal(actor: User) -> bool:
    return actor.is_staff


def may_be_assigned(user: User) -> bool:
    return user.is_active and user.is_staff


def assignable_users() -> ColumnElement[bool]:
    """`may_be_assigned` as a WHERE clause on User, for listing the choices."""
    return active_staff()


def may_raise_for_others(actor: User) -> bool:
    return actor.is_staff


def may_link_tickets(actor: User) -> bool:
    """Merging duplicates and linking tickets to an incident are the desk's work, on tickets it sees."""
    return actor.is_active and actor.is_staff


def sees_tickets_of(actor: User, requester_id: int) -> bool:
    """`can_see_ticket` for a row read without the ticket object (a linked ticket's requester)."""
    sight = reach(actor)
    return sight is Reach.EVERY or (sight is Reach.OWN and requester_id == actor.id)
