"""Ratings as pages and the API show them, read as plain rows: what the requester may do on their
ticket now (`rating_state`), and every rating of a ticket for whoever sees it (`ratings_of_ticket`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import read_rows
from supportdesk.satisfaction import policy
from supportdesk.satisfaction.lifecycle import Score, StatusChange, changeable_until, current_resolution
from supportdesk.satisfaction.models import Rating
from supportdesk.tickets import reads as tickets
from supportdesk.tickets.lifecycle import DONE_STATUSES
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from supportdesk.tickets.summaries import EventSummary, TicketSummary


@dataclass(frozen=True)
class RatingRow:
    id: int
    resolution_id: int
    score: Score
    comment: str | None
    requester_name: str
    resolved_at: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def changeable_until(self) -> datetime:
        return changeable_until(self.created_at)

    @property
    def changed(self) -> bool:
        return self.updated_at != self.created_at


@dataclass(frozen=True)
class RatingState:
    """What the requester's ticket page offers: rate the current resolution, change the rating (until
    when), or nothing (not resolved, or not theirs to rate)."""

    rateable: bool
    resolution_id: int | None
    rating: RatingRow | None
    changeable_until: datetime | None
    changeable: bool  # when read: a rating given and still within its window


NOTHING = RatingState(False, None, None, None, False)

_STATUS_CHANGES = (
    select(TicketEvent.id, TicketEvent.new_value, TicketEvent.created_at)
    .where(TicketEvent.ticket_id == bindparam("ticket_id"), TicketEvent.kind == EventKind.STATUS)
    .order_by(TicketEvent.id)
)


def status_changes(session: Session, ticket_id: int) -> list[StatusChange]:
    return [
        StatusChange(row.id, row.new_value, row.created_at)
        for row in read_rows(session, _STATUS_CHANGES, {"ticket_id": ticket_id})
    ]


_RATINGS = (
    select(
        Rating.id,
        Rating.resolution_event_id,
        Rating.score,
        Rating.comment,
        User.full_name,
        Rating.resolved_at,
        Rating.created_at,
        Rating.updated_at,
    )
    .join(User, User.id == Rating.requester_id)
    .where(Rating.ticket_id == bindparam("ticket_id"))
    .order_by(Rating.resolution_event_id.desc())
)


def _ratings(session: Session, ticket_id: int) -> list[RatingRow]:
    return [
        RatingRow(
            id=row.id,
            resolution_id=row.resolution_event_id,
            score=row.score,
            comment=row.comment,
            requester_name=row.full_name,
            resolved_at=row.resolved_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in read_rows(session, _RATINGS, {"ticket_id": ticket_id})
    ]


def ratings_of_ticket(session: Session, actor: User, number: int) -> list[RatingRow]:
    """Every rating of the ticket, the latest resolution first; NotFound for a ticket `actor` may not
    see."""
    return _ratings(session, tickets.read_ticket(session, actor, number).id)


def ratings_on_page(session: Session, ticket_id: int, events: list[EventSummary]) -> list[RatingRow]:
    """The ratings for the desk's ticket page, from the activity log it already read: a ticket never
    rated (most of them) costs no statement."""
    if not any(event.kind is EventKind.RATING for event in events):
        return []
    return _ratings(session, ticket_id)


def rating_state(session: Session, actor: User, number: int) -> RatingState:
    return rating_state_for(session, actor, tickets.read_ticket(session, actor, number))


def rating_state_for(session: Session, actor: User, ticket: TicketSummary) -> RatingState:
    """For a ticket already read for `actor`: no statement unless it is resolved and theirs to rate,
    then one (its status changes, each with the rating of the resolution it made, if any)."""
    if ticket.status not in DONE_STATUSES or not policy.may_rate(actor, ticket.requester_id):
        return NOTHING
    rows = read_rows(session, _STATUS_CHANGES_RATED, {"ticket_id": ticket.id}).all()
    changes = [StatusChange(row.id, row.new_value, row.created_at) for row in rows]
    resolution = current_resolution(ticket.status, changes)
    if resolution is None or rows[0].merged_into_id is not None:  # a merged duplicate: rate the survivor
        return NOTHING
    row = next(row for row in rows if row.id == resolution.id)
    if row.rating_id is None:
        return RatingState(True, resolution.id, None, None, False)
    rating = RatingRow(
        row.rating_id,
        resolution.id,
        row.score,
        row.comment,
        row.full_name,
        row.resolved_at,
        row.rated_at,
        row.rating_updated_at,
    )
    until = rating.changeable_until
    return RatingState(True, resolution.id, rating, until, clock.now() <= until)


_STATUS_CHANGES_RATED = (
    select(
        TicketEvent.id,
        TicketEvent.new_value,
        TicketEvent.created_at,
        Rating.id.label("rating_id"),
        Rating.score,
        Rating.comment,
        User.full_name,
        Rating.resolved_at,
        Rating.created_at.label("rated_at"),
        Rating.updated_at.label("rating_updated_at"),
        Ticket.merged_into_id,
    )
    .join(Ticket, Ticket.id == TicketEvent.ticket_id)
    .outerjoin(Rating, Rating.resolution_event_id == TicketEvent.id)
    .outerjoin(User, User.id == Rating.requester_id)
    .where(TicketEvent.ticket_id == bindparam("ticket_id"), TicketEvent.kind == EventKind.STATUS)
    .order_by(TicketEvent.id)
)


@dataclass(frozen=True)
class TicketRatings:
    """A ticket's ratings for any reader who sees it, and what `actor` may do."""

    resolution_id: int | None  # the current resolution, if the ticket is resolved or closed
    ratings: list[RatingRow]
    state: RatingState


def ticket_ratings(session: Session, actor: User, number: int) -> TicketRatings:
    ticket = tickets.read_ticket(session, actor, number)
    resolution = current_resolution(ticket.status, status_changes(session, ticket.id))
    return TicketRatings(
        None if resolution is None else resolution.id,
        _ratings(session, ticket.id),
        rating_state_for(session, actor, ticket),
    )
