"""Automatic assignment per team (off, round-robin, least-loaded) among the members marked available,
never past a cap of open tickets each, in the unit of work that creates the ticket or moves it to the
team, safe when tickets arrive at once; and routing rules that pick the team of a new ticket."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import PermissionDenied, ValidationError
from supportdesk.notifications.models import Notification, NotificationKind
from supportdesk.routing import availability, settings
from supportdesk.routing.models import AssignmentMode
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from supportdesk.tickets.service import TicketChanges
from tests.conftest import form_token, login
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician


@pytest.fixture
def desk(session):
    admin = make_admin(session, full_name="Ada Admin")
    techs = {
        name: make_technician(session, full_name=name.capitalize(), email=f"{name}@example.com")
        for name in ("amy", "bob", "cat")
    }
    team = make_team(session, "Service Desk", members=list(techs.values()))
    for name in ("amy", "bob"):
        availability.set_available(session, techs[name], True)
    session.commit()
    return {**techs, "admin": admin, "team": team, "employee": make_requester(session)}


def configure(session, desk, mode, cap=None, team=None):
    settings.set_team_assignment(session, desk["admin"], (team or desk["team"]).id, mode=mode, max_open=cap)
    session.commit()


def raise_ticket(session, desk, subject="Laptop will not boot", **fields):
    fields.setdefault("team_id", desk["team"].id)
    ticket = service.create_ticket(
        session, desk["admin"], subject=subject, requester_id=desk["employee"].id, **fields
    )
    session.commit()
    return ticket


def assignee_name(session, ticket) -> str | None:
    session.expire_all()
    found = session.get(Ticket, ticket.id)
    return None if found.assignee is None else found.assignee.email.split("@")[0]


def test_round_robin_takes_turns_among_available_members_up_to_the_cap(session, desk):
    configure(session, desk, AssignmentMode.ROUND_ROBIN, cap=2)
    tickets = [raise_ticket(session, desk, f"Ticket {n}") for n in range(5)]
    assert [assignee_name(session, t) for t in tickets] == ["amy", "bob", "amy", "bob", None]  # Cat is away
    events = session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == tickets[0].id, TicketEvent.kind == EventKind.ASSIGNEE
        )
    ).all()
    assert [(e.actor_id, e.new_value) for e in events] == [(None, str(desk["amy"].id))]
    told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.ASSIGNED)).all()
    assert sorted(n.user_id for n in told) == sorted([desk["amy"].id, desk["bob"].id] * 2)
    service.transition(session, desk["amy"], tickets[0].number, Status.RESOLVED)  # Amy has room again
    session.commit()
    assert assignee_name(session, raise_ticket(session, desk, "Ticket 5")) == "amy"


def test_least_loaded_gives_the_ticket_to_whoever_has_fewest_open(session, desk):
    for _ in range(2):
        raise_ticket(session, desk, "Already Amy's", assignee_id=desk["amy"].id)
    configure(session, desk, AssignmentMode.LEAST_LOADED, cap=3)
    names = [assignee_name(session, raise_ticket(session, desk, f"New {n}")) for n in range(5)]
    assert names == ["bob", "bob", "amy", "bob", None]  # 2-0, 2-1, 2-2 (lowest id), 3-2, all full


def test_off_by_default_and_a_ticket_the_desk_assigns_itself_is_left_alone(session, desk):
    assert assignee_name(session, raise_ticket(session, desk)) is None
    configure(session, desk, AssignmentMode.ROUND_ROBIN)
    assert assignee_name(session, raise_ticket(session, desk, assignee_id=desk["cat"].id)) == "cat"


def test_an_unavailable_technician_gets_nothing_until_they_are_back(session, desk):
    configure(session, desk, AssignmentMode.ROUND_ROBIN)
    availability.set_available(session, desk["amy"], False)
    availability.set_available(session, desk["bob"], False)
    session.commit()
    assert assignee_name(session, raise_ticket(session, desk)) is None
    availability.set_available(session, desk["cat"], True)
    session.commit()
    assert assignee_name(session, raise_ticket(session, desk)) == "cat"


def test_moving_a_ticket_to_a_team_assigns_it_there(session, desk):
    other = make_team(session, "Network", members=[make_technician(session, email="nia@example.com")])
    nia = other.members[0]
    availability.set_available(session, nia, True)
    session.commit()
    configure(session, desk, AssignmentMode.ROUND_ROBIN, team=other)
    ticket = raise_ticket(session, desk)
    assert assignee_name(session, ticket) is None
    service.update_ticket(session, desk["amy"], ticket.number, TicketChanges(team_id=other.id))
    session.commit()
    assert assignee_name(session, ticket) == "nia"


def test_routing_rules_pick_the_team_in_order(session, desk):
    network = make_team(session, "Network")
    hardware = make_team(session, "Hardware")
    printers = make_category(session, "Printers", team=hardware)
    settings.save_rule(
        session, desk["admin"], name="VPN", position=1, keywords="vpn, wifi", team_id=network.id
    )
    settings.save_rule(
        session, desk["admin"], name="Printers", position=2, category_id=printers.id, team_id=desk["team"].id
    )
    session.commit()

    def team_of(subject, **fields):
        ticket = service.create_ticket(session, desk["employee"], subject=subject, **fields)
        session.commit()
        return ticket.team.name if ticket.team else None

    assert team_of("The VPN drops every hour") == "Network"  # a keyword, any case
    assert team_of("WiFi and the printer", category_id=printers.id) == "Network"  # the first rule wins
    assert team_of("Paper jam", category_id=printers.id) == "Service Desk"
    assert team_of("Mouse is broken") is None
    assert (
        service.create_ticket(session, desk["admin"], subject="VPN for Bob", team_id=hardware.id).team.name
        == "Hardware"
    )  # a team the desk chose stands
    session.commit()


def test_settings_are_checked_and_for_admins(session, desk):
    with pytest.raises(PermissionDenied):
        settings.set_team_assignment(session, desk["amy"], desk["team"].id, mode=AssignmentMode.ROUND_ROBIN)
    with pytest.raises(ValidationError):
        settings.set_team_assignment(
            session, desk["admin"], desk["team"].id, mode=AssignmentMode.ROUND_ROBIN, max_open=0
        )
    with pytest.raises(ValidationError) as refused:
        settings.save_rule(session, desk["admin"], name="Nothing", position=1, team_id=desk["team"].id)
    assert refused.value.for_field("keywords")  # a rule needs a condition
    with pytest.raises(PermissionDenied):
        availability.set_available(session, desk["employee"], True)


def test_tickets_arriving_at_once_never_push_anyone_past_the_cap(clean_app, session, desk):
    configure(session, desk, AssignmentMode.LEAST_LOADED, cap=2)
    sessions = clean_app.extensions["supportdesk.sessionmaker"]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def create(n: int) -> None:
        own = sessions()
        try:
            admin = own.get(type(desk["admin"]), desk["admin"].id)
            start.wait()
            with unit_of_work(own):
                service.create_ticket(
                    own,
                    admin,
                    subject=f"At once {n}",
                    requester_id=desk["employee"].id,
                    team_id=desk["team"].id,
                )
        except BaseException as error:
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    session.expire_all()
    loads: dict[int | None, int] = {}
    for ticket in session.scalars(select(Ticket)):
        loads[ticket.assignee_id] = loads.get(ticket.assignee_id, 0) + 1
    assert loads == {desk["amy"].id: 2, desk["bob"].id: 2, None: 4}


def test_a_technician_says_whether_they_are_available_from_the_desk(client, session, desk):
    login(client, desk["cat"].email)
    page = client.get("/desk/").get_data(as_text=True)
    assert "Not taking tickets" in page
    response = client.post("/desk/availability", data={**form_token(client, "/desk/"), "available": "1"})
    assert response.status_code == 302
    session.expire_all()
    assert availability.is_available(session, desk["cat"].id)
    assert "Taking tickets" in client.get("/desk/").get_data(as_text=True)
    client.post("/desk/availability", data={**form_token(client, "/desk/"), "available": "0"})
    session.expire_all()
    assert not availability.is_available(session, desk["cat"].id)
