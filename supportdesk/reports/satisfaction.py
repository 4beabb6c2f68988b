"""Satisfaction figures: the requesters' ratings (supportdesk/satisfaction/) of the resolutions made in
the range, good and bad counted per team, category and technician (the ticket's current ones, like
every figure), for the tickets in the reader's scope that match the filters. One statement."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.reports.filters import ReportFilters
from supportdesk.reports.policy import ReportScope
from supportdesk.reports.reads import _Frame, _rows, _where
from supportdesk.satisfaction.lifecycle import Score
from supportdesk.satisfaction.models import Rating
from supportdesk.tickets.models import Ticket


@dataclass(frozen=True)
class SatisfactionFigures:
    team_id: int | None
    category_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    good: int
    bad: int


def satisfaction(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo
) -> list[SatisfactionFigures]:
    frame = _Frame(filters, zone)
    group = (Ticket.team_id, Ticket.category_id, Ticket.assignee_id, User.full_name)
    statement = (
        select(
            *group,
            func.sum(case((Rating.score == Score.GOOD, 1), else_=0)),
            func.sum(case((Rating.score == Score.BAD, 1), else_=0)),
        )
        .select_from(Rating)
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(frame.within(Rating.resolved_at), *_where(scope, filters))
        .group_by(*group)
    )
    return [
        SatisfactionFigures(team, category, assignee, name, int(good), int(bad))
        for team, category, assignee, name, good, bad in _rows(session, statement)
    ]
