"""Satisfaction figures (issue 22 with issue 21's ratings): on random desks with random ratings of
random resolutions, the good and bad counts per team, category and technician, and each table's share
of good among rated, equal the same figures computed in plain Python over the raw rows. Both databases,
several time zones, every filter and the reader's team reach."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from supportdesk.reports import satisfaction
from supportdesk.reports.tables import Names, satisfaction_tables
from supportdesk.satisfaction.lifecycle import Score
from supportdesk.satisfaction.models import Rating
from supportdesk.tickets.lifecycle import DONE_STATUSES
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from tests.reports.rows import Desk, RawTicket, Window, raw_tickets, selected, write_desk
from tests.reports.test_figures import (
    CATEGORIES,
    TEAMS,
    TECHNICIANS,
    ask,
    examples,
    fresh,  # noqa: F401 (a fixture)
    questions,
)


@dataclass(frozen=True)
class RawRating:
    ticket: RawTicket
    resolved_at: datetime
    score: Score


def write_ratings(session, desk: Desk, choices: list[Score | None]) -> list[RawRating]:  # type: ignore[no-untyped-def]
    """Rate the resolutions (moves into resolved or closed from active work) as `choices` say, in
    turn: None leaves one unrated."""
    done = {s.value for s in DONE_STATUSES}
    written: list[RawRating] = []
    tickets = session.scalars(select(Ticket).order_by(Ticket.number)).all()
    turn = 0
    for raw, row in zip(desk.tickets, tickets, strict=True):
        events = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == row.id, TicketEvent.kind == EventKind.STATUS)
            .order_by(TicketEvent.id)
        ).all()
        for event in events:
            if event.new_value not in done or event.old_value in done:
                continue  # not a resolution: closing a resolved ticket keeps its resolution
            score = choices[turn % len(choices)] if choices else None
            turn += 1
            if score is None:
                continue
            session.add(
                Rating(
                    ticket_id=row.id,
                    resolution_event_id=event.id,
                    requester_id=row.requester_id,
                    score=score,
                    comment=None,
                    resolved_at=event.created_at,
                    created_at=event.created_at,
                    updated_at=event.created_at,
                )
            )
            written.append(RawRating(raw, event.created_at, score))
    session.commit()
    return written


def expected(
    desk: Desk, window: Window, ratings: list[RawRating]
) -> dict[tuple[int | None, ...], tuple[int, int]]:
    first, last = window.edges[0], window.edges[-1]
    chosen = {id(t) for t in selected(desk, window)}
    counts: dict[tuple[int | None, ...], list[int]] = defaultdict(lambda: [0, 0])
    for rating in ratings:
        if id(rating.ticket) not in chosen or not first <= rating.resolved_at < last:
            continue
        key = (desk.team_id(rating.ticket), desk.category_id(rating.ticket), desk.assignee_id(rating.ticket))
        counts[key][0 if rating.score is Score.GOOD else 1] += 1
    return {key: (good, bad) for key, (good, bad) in counts.items()}


scores = st.lists(st.none() | st.sampled_from(Score), min_size=1, max_size=7)


@examples
@given(
    tickets=st.lists(raw_tickets(TEAMS, CATEGORIES, TECHNICIANS), max_size=40),
    question=questions(),
    choices=scores,
)
def test_satisfaction_matches_the_raw_rows(fresh, tickets, question, choices) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    session = fresh()
    desk = write_desk(session, tickets, TEAMS, CATEGORIES, TECHNICIANS)
    ratings = write_ratings(session, desk, choices)
    filters, scope, window, zone = ask(desk, question)

    figures = satisfaction.satisfaction(session, scope, filters, zone)
    wanted = expected(desk, window, ratings)
    assert {(f.team_id, f.category_id, f.assignee_id): (f.good, f.bad) for f in figures} == wanted
    assert all(
        f.assignee_name == f"Tech {desk.technicians.index(f.assignee_id)}" for f in figures if f.assignee_id
    )

    # The tables: per team, category and technician, good, bad, rated and the share of good.
    names = Names({t: f"Team {i}" for i, t in enumerate(desk.teams)}, desk.category_names)
    tables = {t.name: t for t in satisfaction_tables(session, scope, filters, zone, names)}
    groupings = {
        "satisfaction-team": lambda key: "No team" if key[0] is None else names.teams[key[0]],
        "satisfaction-category": lambda key: "No category" if key[1] is None else names.categories[key[1]],
        "satisfaction-technician": lambda key: (
            "Unassigned" if key[2] is None else f"Tech {desk.technicians.index(key[2])}"
        ),
    }
    for name, name_of in groupings.items():
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for key, (good, bad) in wanted.items():
            sums[name_of(key)][0] += good
            sums[name_of(key)][1] += bad
        rows = {
            label: [good, bad, good + bad, round(100 * good / (good + bad), 1)]
            for label, (good, bad) in sums.items()
        }
        assert {row[0]: row[1:] for row in tables[name].rows} == rows, name


def test_a_share_is_good_among_rated(fresh) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Three good and one bad for one technician: 75 % over four ratings; unrated resolutions do not
    count."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from supportdesk.reports.filters import ReportFilters
    from supportdesk.reports.policy import ReportScope
    from supportdesk.tickets.lifecycle import Priority, Status

    session = fresh()
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    raws = [
        RawTicket(
            0,
            0,
            Priority.NORMAL,
            0,
            start + timedelta(hours=i),
            None,
            [(start + timedelta(hours=i, minutes=30), Status.RESOLVED)],
        )
        for i in range(5)
    ]
    desk = write_desk(session, raws, TEAMS, CATEGORIES, TECHNICIANS)
    write_ratings(session, desk, [Score.GOOD, Score.BAD, Score.GOOD, Score.GOOD, None])
    filters = ReportFilters(first_day=start.date(), last_day=start.date())
    tables = {
        t.name: t
        for t in satisfaction_tables(
            session, ReportScope(None), filters, ZoneInfo("UTC"), Names({}, desk.category_names)
        )
    }
    assert tables["satisfaction-technician"].rows == [["Tech 0", 3, 1, 4, 75.0]]
    assert tables["satisfaction-technician"].columns == [
        "Technician",
        "Good",
        "Bad",
        "Rated",
        "Satisfaction (% good)",
    ]
