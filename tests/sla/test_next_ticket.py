""" "Next ticket" hands each technician a different ticket, the most urgent one first."""

from __future__ import annotations

import threading
from datetime import timedelta

from supportdesk.core import clock
from supportdesk.core.db import unit_of_work, utcnow
from supportdesk.sla.next_ticket import take_next
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket
from tests.factories import make_calendar, make_policy, make_requester, make_team, make_technician


def raise_ago(session, who, subject, ago, **fields):
    with clock.frozen_at(utcnow() - ago):
        ticket = service.create_ticket(session, who, subject=subject, **fields)
    session.commit()
    return ticket


def test_the_most_urgent_takeable_ticket_of_my_teams_comes_first(session):
    make_policy(
        session,
        make_calendar(session, "Always"),
        "Urgent",
        position=0,
        priority=Priority.URGENT,
        resolution_minutes=60,
    )
    network, finance = make_team(session, "Network"), make_team(session, "Finance")
    tech = make_technician(session, teams=[network])
    boss = make_technician(session)
    erin = make_requester(session)
    old_low = raise_ago(session, erin, "Old and low", timedelta(days=3), priority=Priority.LOW)
    high = raise_ago(session, erin, "High", timedelta(hours=1), priority=Priority.HIGH)
    due = raise_ago(session, erin, "Due soon", timedelta(minutes=50), priority=Priority.NORMAL)
    service.update_ticket(session, boss, due.number, service.TicketChanges(priority=Priority.URGENT))
    session.commit()
    raise_ago(session, boss, "Finance's", timedelta(days=9), requester_id=erin.id, team_id=finance.id)
    waiting = raise_ago(
        session, boss, "Waiting", timedelta(days=10), requester_id=erin.id, team_id=network.id
    )
    service.transition(session, boss, waiting.number, Status.PENDING)
    session.commit()
    taken = []
    for _ in range(4):
        with unit_of_work(session):
            ticket = take_next(session, tech)
            taken.append(None if ticket is None else ticket.subject)
    assert taken == ["Due soon", "High", "Old and low", None]
    session.expire_all()
    assert session.get(Ticket, old_low.id).assignee_id == tech.id
    assert session.get(Ticket, high.id).assignee_id == tech.id


def test_technicians_pressing_at_once_never_get_the_same_ticket(clean_app, session):
    erin = make_requester(session)
    techs = [make_technician(session) for _ in range(6)]
    for index in range(4):
        raise_ago(session, erin, f"Ticket {index}", timedelta(minutes=index))
    sessions = clean_app.extensions["supportdesk.sessionmaker"]
    results: dict[int, int | None] = {}
    start = threading.Barrier(len(techs))

    def press(tech_id: int) -> None:
        own = sessions()
        try:
            tech = own.get(type(techs[0]), tech_id)
            start.wait()
            with unit_of_work(own):
                ticket = take_next(own, tech)
                results[tech_id] = None if ticket is None else ticket.number
        finally:
            own.close()

    threads = [threading.Thread(target=press, args=(t.id,)) for t in techs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = [n for n in results.values() if n is not None]
    assert len(results) == 6 and len(numbers) == 4 and len(set(numbers)) == 4
    session.expire_all()
    assigned = {t.number: t.assignee_id for t in session.query(Ticket)}
    assert all(assigned[number] == tech for tech, number in results.items() if number is not None)


def test_the_desk_button_and_the_api_hand_out_the_next_ticket(client, api_as, session):
    from tests.conftest import form_token, login, page_text

    erin = make_requester(session)
    tech = make_technician(session, email="tess@example.com")
    first = raise_ago(session, erin, "Oldest", timedelta(hours=2))
    second = raise_ago(session, erin, "Newer", timedelta(hours=1))
    login(client, tech.email)
    response = client.post("/desk/next", data=form_token(client, "/desk/"))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/desk/tickets/{first.number}"
    )
    taken = api_as(tech).post("/api/v1/tickets/next")
    assert taken.status_code == 200 and taken.get_json()["number"] == second.number
    assert taken.get_json()["assignee"]["id"] == tech.id
    assert api_as(tech).post("/api/v1/tickets/next").status_code == 204
    empty = client.post("/desk/next", data=form_token(client, "/desk/"), follow_redirects=True)
    assert "Nothing to take" in page_text(empty)
