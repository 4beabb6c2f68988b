"""Renaming and deleting a team: a deleted team's tickets move to the team the admin chose (or to no
team), each with an audit event; its categories route there instead; a team a service-level policy
or a routing rule still names is not deleted; only admins do either."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.accounts.models import Team
from supportdesk.core.errors import PermissionDenied, ValidationError
from supportdesk.routing.models import RoutingRule
from supportdesk.tickets import teams
from supportdesk.tickets.models import Category, EventKind, Ticket, TicketEvent
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket


@pytest.fixture
def desk(session):
    admin = make_admin(session, full_name="Ada Admin")
    old, new = make_team(session, "Printers"), make_team(session, "Hardware")
    category = make_category(session, "Printing", team=old)
    erin = make_requester(session)
    moved = [make_ticket(session, erin, subject=f"Jam {n}", category_id=category.id) for n in range(3)]
    stays = make_ticket(session, erin, subject="Other", team_id=None)
    session.commit()
    return {"admin": admin, "old": old, "new": new, "category": category, "moved": moved, "stays": stays}


def test_a_deleted_teams_tickets_and_categories_move_to_the_chosen_team(session, desk):
    old_id, new_id = desk["old"].id, desk["new"].id
    summary = teams.delete_team(session, desk["admin"], old_id, move_to_id=new_id)
    session.commit()
    assert (summary.tickets, summary.categories, summary.moved_to) == (3, 1, "Hardware")
    session.expire_all()
    assert session.get(Team, old_id) is None
    assert {t.team_id for t in session.scalars(select(Ticket).where(Ticket.subject.like("Jam%")))} == {new_id}
    assert session.get(Category, desk["category"].id).default_team_id == new_id
    events = session.scalars(select(TicketEvent).where(TicketEvent.kind == EventKind.TEAM)).all()
    assert (
        sorted((e.old_value, e.new_value, e.actor_id) for e in events)
        == [(str(old_id), str(new_id), desk["admin"].id)] * 3
    )
    assert session.get(Ticket, desk["stays"].id).team_id is None


def test_deleting_to_no_team_and_refusals(session, desk):
    admin, old_id = desk["admin"], desk["old"].id
    with pytest.raises(PermissionDenied):
        teams.delete_team(session, make_technician(session), old_id, move_to_id=None)
    with pytest.raises(ValidationError):
        teams.delete_team(session, admin, old_id, move_to_id=old_id)
    session.add(RoutingRule(name="Printers first", team_id=old_id, keywords="printer"))
    session.commit()
    with pytest.raises(ValidationError) as refused:
        teams.delete_team(session, admin, old_id, move_to_id=None)
    assert "Printers first" in refused.value.errors[0].message
    session.rollback()
    session.execute(RoutingRule.__table__.delete())
    session.commit()
    summary = teams.delete_team(session, admin, old_id, move_to_id=None)
    session.commit()
    assert summary.tickets == 3 and summary.moved_to is None
    session.expire_all()
    assert {t.team_id for t in session.scalars(select(Ticket))} == {None}


def test_team_ticket_counts_for_the_admin_page(session, desk):
    counts = teams.ticket_counts(session, desk["admin"])
    assert counts == {desk["old"].id: 3}
