"""Every page and API call runs a constant number of SQL statements, whatever the page size or the
amount of data (at most 6 for list pages): no N+1. Counted with an engine event, per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from supportdesk.core import caching
from supportdesk.tickets import service
from tests.conftest import login
from tests.factories import make_category, make_requester, make_team, make_technician, make_ticket

LIST_BUDGET = 6


@contextmanager
def counting(app) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.extensions["supportdesk.engine"]

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def people(session):
    team = make_team(session, "Network")
    return {
        "category": make_category(session, "VPN", team=team),
        "techs": [make_technician(session, teams=[team]) for _ in range(3)],
        "requesters": [make_requester(session) for _ in range(4)],
    }


def add_tickets(session, people, count: int) -> list[int]:
    """Tickets spread over requesters and technicians, each with a reply and an internal note."""
    numbers = []
    techs, requesters = people["techs"], people["requesters"]
    for i in range(count):
        tech = techs[i % 3]
        ticket = make_ticket(
            session, requesters[i % 4], subject=f"VPN printer {i}", category_id=people["category"].id
        )
        service.assign(session, tech, ticket.number, tech.id)
        session.commit()
        service.add_comment(session, tech, ticket.number, f"reply {i}")
        session.commit()
        service.add_comment(session, tech, ticket.number, f"note {i}", internal=True)
        session.commit()
        numbers.append(ticket.number)
    return numbers


PAGES = {
    "desk queue": "/desk/?view=open",
    "desk search": "/desk/?view=open&q=printer",
    "global search": "/desk/search?q=printer",
    "global search by name": "/desk/search?q=requester",
    "desk ticket": "/desk/tickets/{n}",
    "desk similar tickets": "/desk/tickets/{n}/similar",
    "my tickets": "/portal/",
    "reports": "/reports/",
    "portal ticket": "/portal/tickets/{n}",
    "api list": "/api/v1/tickets?limit=100",
    "api detail": "/api/v1/tickets/{n}",
    "api comments": "/api/v1/tickets/{n}/comments",
    "api events": "/api/v1/tickets/{n}/events",
    "api links": "/api/v1/tickets/{n}/links",
}
LISTS = {"desk queue", "desk search", "global search", "global search by name", "my tickets", "api list"}
# What each page needs and no more: the signed-in user, the ticket(s), and for the desk its queue
# counts, the service-level policies (for the due column; read once a minute per process) and one
# statement for every staff, team and category name the selects offer.
# The global search needs no counts and no pickers: the signed-in user and one statement for the page.
# The desk's ticket page also reads the technician's own draft of a reply (issue 15): one primary-key
# look-up. The queue also reads whether the technician is taking tickets (issue 19's "taking tickets"
# switch, for automatic assignment): one primary-key look-up.
# The reports page: the user, their teams, the names, and one statement per figure (created and resolved,
# today's open tickets and the changes since, the three kinds of times, service levels, technicians,
# categories), and one for satisfaction (the ratings of the resolutions in the range, issue 21).
# Both ticket pages also read the tickets linked to this one (issue 21: the ticket it was merged into,
# those merged into it, its incident and the incident's children): one statement, through indexes.
# The desk's similar open tickets come after the page: the user, the ticket, the ranked matches.
PAGE_BUDGETS = {
    "desk queue": 6,
    "desk search": 6,
    "global search": 2,
    "global search by name": 2,
    "desk ticket": 8,
    "desk similar tickets": 3,
    "portal ticket": 5,
    "reports": 13,
}


def measure(app, client, api, tech, requester, numbers) -> dict[str, int]:
    counts = {}
    for name, path in PAGES.items():
        url = path.format(n=numbers[0])
        as_requester = name.startswith(("my tickets", "portal"))
        caching.forget_all()
        if name.startswith("api"):
            client_call = lambda u=url: api.get(u)  # noqa: E731
        else:
            client.delete_cookie("session")
            login(client, (requester if as_requester else tech).email)
            client_call = lambda u=url: client.get(u)  # noqa: E731
        client_call()  # warm: first-request work is not what we measure; the caches start cold
        caching.forget_all()
        with counting(app) as statements:
            response = client_call()
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    return counts


def test_query_counts_do_not_grow_with_the_data(clean_app, client, session, api_as, people):
    tech, requester = people["techs"][0], people["requesters"][0]
    api = api_as(tech)
    numbers = add_tickets(session, people, 3)
    few = measure(clean_app, client, api, tech, requester, numbers)
    add_tickets(session, people, 40)
    many = measure(clean_app, client, api, tech, requester, numbers)
    assert few == many, {k: (few[k], many[k]) for k in few if few[k] != many[k]}
    for name in LISTS:
        assert many[name] <= LIST_BUDGET, (name, many[name])
    over = {name: many[name] for name, budget in PAGE_BUDGETS.items() if many[name] > budget}
    assert over == {}
