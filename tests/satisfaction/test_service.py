"""Rating a resolved ticket (issue 21): one rating per resolution, by its requester only, changeable
for a week; validation before any change; an event in the ticket's history. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from supportdesk.core import clock
from supportdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from supportdesk.satisfaction import reads as ratings
from supportdesk.satisfaction import service
from supportdesk.satisfaction.lifecycle import CHANGE_WINDOW, COMMENT_MAX
from supportdesk.satisfaction.models import Rating
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import EventKind, TicketEvent
from tests.factories import make_admin, make_requester, make_team, make_technician, make_ticket

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(session):
    team = make_team(session, "Service Desk")
    return {
        "erin": make_requester(session, email="erin@example.com", full_name="Erin Employee"),
        "other": make_requester(session, email="olga@example.com", full_name="Olga Other"),
        "tech": make_technician(session, email="sam@example.com", full_name="Sam Okafor", teams=[team]),
        "admin": make_admin(session, email="ada@example.com", full_name="Ada Admin"),
    }


def resolved_ticket(session, people, at=MONDAY):
    with clock.frozen_at(at):
        ticket = make_ticket(session, people["erin"], "VPN drops every hour")
        tickets.transition(session, people["tech"], ticket.number, Status.RESOLVED)
        session.commit()
    return ticket


def rating_events(session, ticket):
    return session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.RATING)
        .order_by(TicketEvent.id)
    ).all()


def count_ratings(session) -> int:
    return session.scalar(select(func.count()).select_from(Rating))


def test_the_requester_rates_a_resolved_ticket_and_the_desk_reads_it(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        rating = service.rate(session, people["erin"], ticket.number, "bad", "  Took <b>ages</b>  ")
        session.commit()
    assert (rating.score.value, rating.comment) == ("bad", "Took <b>ages</b>")
    assert rating.requester_id == people["erin"].id and rating.ticket_id == ticket.id
    (event,) = rating_events(session, ticket)
    assert (event.actor_id, event.old_value, event.new_value) == (people["erin"].id, None, "bad")

    shown = ratings.ratings_of_ticket(session, people["tech"], ticket.number)
    assert [(r.score.value, r.comment, r.requester_name) for r in shown] == [
        ("bad", "Took <b>ages</b>", "Erin Employee")
    ]


def test_the_requester_changes_the_rating_within_a_week_then_no_more(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        service.rate(session, people["erin"], ticket.number, "bad", "Slow")
        session.commit()
    with clock.frozen_at(MONDAY + timedelta(days=3)):
        service.rate(session, people["erin"], ticket.number, "good", "Fixed for good after all")
        session.commit()
    assert count_ratings(session) == 1
    rating = session.scalars(select(Rating)).one()
    assert (rating.score.value, rating.comment) == ("good", "Fixed for good after all")
    assert [(e.old_value, e.new_value) for e in rating_events(session, ticket)] == [
        (None, "bad"),
        ("bad", "good"),
    ]
    late = MONDAY + timedelta(hours=1) + CHANGE_WINDOW + timedelta(seconds=1)
    with clock.frozen_at(late), pytest.raises(Conflict, match="7 days"):
        service.rate(session, people["erin"], ticket.number, "bad", "")
    session.rollback()
    assert session.scalars(select(Rating)).one().score.value == "good"


def test_the_same_rating_again_changes_nothing(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        service.rate(session, people["erin"], ticket.number, "good", "")
        session.commit()
        service.rate(session, people["erin"], ticket.number, "good", None)
        session.commit()
    assert len(rating_events(session, ticket)) == 1


def test_a_reopened_then_resolved_ticket_is_rated_again(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        service.rate(session, people["erin"], ticket.number, "good", "")
        session.commit()
    with clock.frozen_at(MONDAY + timedelta(hours=2)):
        tickets.transition(session, people["erin"], ticket.number, Status.OPEN)
        session.commit()
        with pytest.raises(Conflict, match="not resolved"):
            service.rate(session, people["erin"], ticket.number, "bad", "")
        session.rollback()
        tickets.transition(session, people["tech"], ticket.number, Status.RESOLVED)
        session.commit()
        service.rate(session, people["erin"], ticket.number, "bad", "It broke again")
        session.commit()
    shown = ratings.ratings_of_ticket(session, people["tech"], ticket.number)
    assert [r.score.value for r in shown] == ["bad", "good"]  # newest resolution first
    assert count_ratings(session) == 2


def test_a_closed_ticket_keeps_its_resolution_and_its_rating(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        service.rate(session, people["erin"], ticket.number, "bad", "")
        session.commit()
        tickets.transition(session, people["tech"], ticket.number, Status.CLOSED)
        session.commit()
        service.rate(session, people["erin"], ticket.number, "good", "")
        session.commit()
    assert [r.score.value for r in ratings.ratings_of_ticket(session, people["tech"], ticket.number)] == [
        "good"
    ]


def test_an_open_ticket_cannot_be_rated(session, people):
    ticket = make_ticket(session, people["erin"], "Printer")
    with pytest.raises(Conflict, match="not resolved"):
        service.rate(session, people["erin"], ticket.number, "good", "")
    session.rollback()
    assert count_ratings(session) == 0


@pytest.mark.parametrize("who", ["tech", "admin"])
def test_the_desk_cannot_rate_or_change_a_rating(session, people, who):
    ticket = resolved_ticket(session, people)
    with pytest.raises(PermissionDenied):
        service.rate(session, people[who], ticket.number, "good", "")
    session.rollback()
    service.rate(session, people["erin"], ticket.number, "bad", "")
    session.commit()
    with pytest.raises(PermissionDenied):
        service.rate(session, people[who], ticket.number, "good", "")
    session.rollback()
    assert session.scalars(select(Rating)).one().score.value == "bad"


def test_another_requester_does_not_even_find_the_ticket(session, people):
    ticket = resolved_ticket(session, people)
    with pytest.raises(NotFound):
        service.rate(session, people["other"], ticket.number, "good", "")
    with pytest.raises(NotFound):
        ratings.ratings_of_ticket(session, people["other"], ticket.number)
    session.rollback()
    assert count_ratings(session) == 0


@pytest.mark.parametrize(
    ("score", "comment", "fields"),
    [
        ("meh", "", {"score"}),
        ("", "", {"score"}),
        ("good", "x" * (COMMENT_MAX + 1), {"comment"}),
        ("5", "x" * (COMMENT_MAX + 1), {"score", "comment"}),
        ("good", "nul\x00byte", {"comment"}),
    ],
)
def test_bad_input_names_each_field_and_changes_nothing(session, people, score, comment, fields):
    ticket = resolved_ticket(session, people)
    with pytest.raises(ValidationError) as refused:
        service.rate(session, people["erin"], ticket.number, score, comment)
    session.rollback()
    assert {e.field for e in refused.value.errors} == fields
    assert count_ratings(session) == 0
    assert rating_events(session, ticket) == []


def test_the_requesters_view_says_what_they_may_do(session, people):
    ticket = resolved_ticket(session, people)
    with clock.frozen_at(MONDAY + timedelta(hours=1)):
        state = ratings.rating_state(session, people["erin"], ticket.number)
        assert state.rateable and state.rating is None
        service.rate(session, people["erin"], ticket.number, "good", "Thanks!")
        session.commit()
        state = ratings.rating_state(session, people["erin"], ticket.number)
    assert state.rating is not None and state.rating.score.value == "good"
    assert state.changeable_until == MONDAY + timedelta(hours=1) + CHANGE_WINDOW
    with clock.frozen_at(MONDAY + timedelta(days=9)):
        later = ratings.rating_state(session, people["erin"], ticket.number)
    assert later.rating is not None and not later.changeable


def test_a_duplicate_merged_into_another_ticket_is_not_rated(session, people):
    from supportdesk.tickets import merging

    duplicate = make_ticket(session, people["erin"], "VPN again")
    survivor = make_ticket(session, people["erin"], "VPN drops every hour")
    merging.merge_ticket(session, people["tech"], duplicate.number, survivor.number)
    session.commit()
    assert not ratings.rating_state(session, people["erin"], duplicate.number).rateable
    with pytest.raises(Conflict, match="merged"):
        service.rate(session, people["erin"], duplicate.number, "good", "")
    session.rollback()
    assert count_ratings(session) == 0
