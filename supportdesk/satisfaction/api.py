"""Ratings through the API: whoever sees a ticket reads its ratings (GET .../rating); its requester
rates the current resolution or changes their rating (POST .../rating). The same services as the
pages."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from pydantic import Field

from supportdesk.core.apikit import Schema, bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.satisfaction import reads, service
from supportdesk.satisfaction.lifecycle import COMMENT_MAX, Score, changeable_until
from supportdesk.satisfaction.models import Rating

TAG = "Satisfaction"


class RatingOut(Schema):
    score: Score
    comment: str | None
    resolution_id: int = Field(description="The status event that resolved the ticket: one rating each.")
    resolved_at: datetime
    rated_at: datetime
    changed_at: datetime
    changeable_until: datetime = Field(description="The requester may change it until then.")


class TicketRatingsOut(Schema):
    ticket: int = Field(description="The ticket's number.")
    can_rate: bool = Field(description="Whether you may rate (or change the rating of) it now.")
    current: RatingOut | None = Field(description="The rating of the current resolution, if any.")
    ratings: list[RatingOut] = Field(description="Every rating of the ticket, the latest resolution first.")


class RatingCreate(Schema):
    score: str = Field(description="good or bad", max_length=20)
    comment: str | None = Field(default=None, max_length=COMMENT_MAX * 2, description="Optional.")


def _out(row: reads.RatingRow) -> RatingOut:
    return RatingOut(
        score=row.score,
        comment=row.comment,
        resolution_id=row.resolution_id,
        resolved_at=row.resolved_at,
        rated_at=row.created_at,
        changed_at=row.updated_at,
        changeable_until=row.changeable_until,
    )


def _rating_out(rating: Rating) -> RatingOut:
    return RatingOut(
        score=rating.score,
        comment=rating.comment,
        resolution_id=rating.resolution_event_id,
        resolved_at=rating.resolved_at,
        rated_at=rating.created_at,
        changed_at=rating.updated_at,
        changeable_until=changeable_until(rating.created_at),
    )


@registry.route(
    bp,
    "/tickets/<id:number>/rating",
    "GET",
    summary="A ticket's satisfaction ratings (one per resolution)",
    tag=TAG,
    responses={200: TicketRatingsOut},
)
def get_rating(number: int) -> Response:
    session, actor = db.session(), current_actor()
    view = reads.ticket_ratings(session, actor, number)
    current = next((r for r in view.ratings if r.resolution_id == view.resolution_id), None)
    return json_response(
        TicketRatingsOut(
            ticket=number,
            can_rate=view.state.rateable and (view.state.rating is None or view.state.changeable),
            current=None if current is None else _out(current),
            ratings=[_out(r) for r in view.ratings],
        )
    )


@registry.route(
    bp,
    "/tickets/<id:number>/rating",
    "POST",
    summary="Rate the ticket's resolution, or change your rating within a week (its requester only)",
    tag=TAG,
    body=RatingCreate,
    responses={200: RatingOut},
)
def rate_ticket(number: int, body: RatingCreate) -> Response:
    with db.transaction() as session:
        rating = service.rate(session, current_actor(), number, body.score, body.comment)
        out = _rating_out(rating)
    return json_response(out)
