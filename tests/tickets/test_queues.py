"""Queue counts stay cheap at a million tickets: on PostgreSQL they read only the small index of active
tickets (and a narrow range of recently resolved ones), never the whole table."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from supportdesk.core import clock
from supportdesk.tickets import queues, reads, service
from supportdesk.tickets.lifecycle import Status
from tests.factories import make_requester, make_team, make_technician, make_ticket


def test_counts_match_the_views(session):
    team = make_team(session, "Network")
    tech = make_technician(session, teams=[team])
    other = make_technician(session)
    requester = make_requester(session)
    unassigned = make_ticket(session, requester)
    mine = make_ticket(session, requester)
    theirs = make_ticket(session, requester)
    service.assign(session, tech, mine.number, tech.id)
    session.commit()
    service.assign(session, other, theirs.number, other.id)
    session.commit()
    service.update_ticket(session, tech, theirs.number, service.TicketChanges(team_id=team.id))
    session.commit()
    resolved = make_ticket(session, requester)
    service.transition(session, tech, resolved.number, Status.RESOLVED)
    session.commit()
    with clock.frozen_at(clock.now() - timedelta(days=30)):
        old = make_ticket(session, requester)
        service.transition(session, tech, old.number, Status.RESOLVED)
        session.commit()
    counts = queues.queue_counts(session, tech, fresh=True)
    assert counts == {
        queues.QueueView.UNASSIGNED: 1,
        queues.QueueView.MINE: 1,
        queues.QueueView.MY_TEAMS: 1,
        queues.QueueView.ALL_OPEN: 3,
        queues.QueueView.WAITING: 0,
        queues.QueueView.RECENTLY_RESOLVED: 1,
        queues.QueueView.AT_RISK: 0,
        queues.QueueView.BREACHED: 0,
    }
    assert unassigned.number not in (mine.number, theirs.number)


@contextmanager
def plans_of(connection, explain: str) -> Iterator[list[str]]:
    """The plan of every statement about tickets run inside the block (`explain` + the statement)."""
    plans: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM tickets" in statement:
            cursor.execute(f"{explain} {statement}", parameters)
            plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield plans
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_postgresql_counts_never_scan_the_tickets_table(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    tech = make_technician(session)
    make_ticket(session, make_requester(session))
    connection = session.connection()
    # Small tables make any plan cheap; with scans of the table priced out, only an index that covers
    # every column the counts read can give an index-only scan.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    connection.execute(text("SET LOCAL enable_bitmapscan = off"))
    with plans_of(connection, "EXPLAIN") as plans:
        queues.queue_counts(session, tech, fresh=True)
    plan = "\n".join(plans)
    assert plan and "Seq Scan on tickets" not in plan
    assert "Index Only Scan using ix_tickets_active_counts" in plan


def test_sqlite_uses_the_active_ticket_indexes_too(session):
    """SQLite can use a partial index only when the query repeats the index's WHERE term word for word;
    a bound `status IN (?, ?, ?, ?)` made it scan every ticket (74 ms per count at 100k)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    tech = make_technician(session)
    make_ticket(session, make_requester(session))
    with plans_of(session.connection(), "EXPLAIN QUERY PLAN") as plans:
        queues.queue_counts(session, tech, fresh=True)
        reads.list_tickets(session, tech, queues.view_filters(queues.QueueView.UNASSIGNED))
        reads.list_tickets(session, tech, queues.view_filters(queues.QueueView.BREACHED))
    assert len(plans) == 3
    assert all("ix_tickets_active_" in plan for plan in plans), plans


def test_counts_are_current_after_any_write_whatever_made_it(client, api_as, session):
    """The counts a technician sees are dropped as soon as a change is committed, whether it came from
    the desk, the portal, the API or a background job, not only after the desk's own forms."""
    from tests.conftest import csrf_token, login, page_text

    make_technician(session, email="tech@example.com")
    requester = make_requester(session, email="erin@example.com")
    api = api_as(requester)
    make_ticket(session, requester)
    login(client, "tech@example.com")

    def unassigned() -> int:
        page = page_text(client.get("/desk/?view=unassigned"))
        return int(re.search(r'Unassigned <span class="badge sd-count">(\d+)</span>', page).group(1))

    assert unassigned() == 1
    assert api.post("/api/v1/tickets", json={"subject": "Raised through the API"}).status_code == 201
    assert unassigned() == 2
    portal = api.client
    login(portal, "erin@example.com")
    token = csrf_token(portal, "/portal/new")
    response = portal.post(
        "/portal/new", data={"csrf_token": token, "subject": "Raised in the portal", "priority": "normal"}
    )
    assert response.status_code == 302
    assert unassigned() == 3
