"""Recording a rating: from the requester's signed-in pages and the API (`rate`), or from the
resolution email's link without signing in (`rate_with_link`). Validate everything, then change, write
the event in the ticket's history, flush; the caller's unit of work commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.errors import Conflict, FieldError, PermissionDenied, ValidationError
from supportdesk.satisfaction import lifecycle, links, policy
from supportdesk.satisfaction.lifecycle import Score, StatusChange
from supportdesk.satisfaction.models import Rating
from supportdesk.satisfaction.reads import status_changes
from supportdesk.tickets import service as tickets
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent

NOT_RESOLVED = "This ticket is not resolved: there is nothing to rate yet."
MERGED = "This ticket was merged into another one: rate the answer there."


def rate(session: Session, actor: User, number: int, score: object, comment: object) -> Rating:
    """The signed-in requester rates the current resolution of their ticket (or changes their rating
    within the window). NotFound for a ticket `actor` may not see; PermissionDenied for the desk."""
    ticket = tickets.get_ticket(session, actor, number)  # locked until the unit of work ends
    if not policy.may_rate(actor, ticket.requester_id):
        raise PermissionDenied(policy.REFUSAL)
    if ticket.merged_into_id is not None:
        raise Conflict(MERGED)
    chosen, text = _validated(score, comment)
    resolution = lifecycle.current_resolution(ticket.status, status_changes(session, ticket.id))
    if resolution is None:
        raise Conflict(NOT_RESOLVED)
    return _record(session, ticket, actor, resolution, chosen, text, clock.now())


def rate_with_link(
    session: Session, token: str, score: object, comment: object, *, signed_in: User | None
) -> Rating:
    """The same from the resolution email's link, for the requester the link was sent to."""
    target = links.open_link(session, token, signed_in, lock=True)
    chosen, text = _validated(score, comment)
    return _record(session, target.ticket, target.requester, target.resolution, chosen, text, clock.now())


def _validated(score: object, comment: object) -> tuple[Score, str | None]:
    chosen, text = lifecycle.parse_score(score), lifecycle.clean_comment(comment)
    errors = [value for value in (chosen, text) if isinstance(value, FieldError)]
    if errors:
        raise ValidationError(errors)
    assert isinstance(chosen, Score)
    assert not isinstance(text, FieldError)
    return chosen, text


def _record(
    session: Session,
    ticket: Ticket,
    requester: User,
    resolution: StatusChange,
    score: Score,
    comment: str | None,
    now: datetime,
) -> Rating:
    rating = session.scalars(
        select(Rating).where(Rating.resolution_event_id == resolution.id).with_for_update()
    ).one_or_none()
    old: str | None = None
    if rating is None:
        rating = Rating(
            ticket_id=ticket.id,
            resolution_event_id=resolution.id,
            requester_id=requester.id,
            score=score,
            comment=comment,
            resolved_at=resolution.created_at,
            created_at=now,
            updated_at=now,
        )
        session.add(rating)
    else:
        if rating.score is score and rating.comment == comment:
            return rating  # sent twice: nothing new to record
        refusal = lifecycle.change_refusal(rating.created_at, now)
        if refusal is not None:
            raise Conflict(refusal)
        old = rating.score.value
        rating.score, rating.comment, rating.updated_at = score, comment, now
    # The event records the score (a comment can be long; the rating keeps it); the ticket's version
    # does not move: a rating changes nothing the desk is editing.
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            actor_id=requester.id,
            kind=EventKind.RATING,
            old_value=old,
            new_value=score.value,
            created_at=now,
        )
    )
    session.flush()
    return rating
