"""The technicians' desk through the test client."""

import re

import pytest
from sqlalchemy import select, text

from supportdesk.accounts.models import Team
from supportdesk.tickets import reads, service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket, TicketEvent
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket
from tests.html_safety import assert_page_inert
from tests.test_query_counts import counting


@pytest.fixture
def desk(session):
    team = make_team(session, "Network")
    tech = make_technician(session, full_name="Tess Tech", teams=[team])
    other = make_technician(session, full_name="Olly Other")
    alice = make_requester(session, full_name="Alice Archer")
    unassigned = make_ticket(session, alice, subject="Unassigned printer")
    mine = make_ticket(session, alice, subject="My VPN ticket", team_id=None)
    service.assign(session, tech, mine.number, tech.id)
    session.commit()
    theirs = make_ticket(session, alice, subject="Olly's laptop")
    service.assign(session, other, theirs.number, other.id)
    session.commit()
    service.update_ticket(session, other, theirs.number, service.TicketChanges(team_id=team.id))
    session.commit()
    waiting = make_ticket(session, alice, subject="Waiting on vendor")
    service.transition(session, tech, waiting.number, Status.ON_HOLD)
    session.commit()
    done = make_ticket(session, alice, subject="Fixed yesterday")
    service.transition(session, tech, done.number, Status.RESOLVED)
    session.commit()
    login_as = tech
    return {
        "tech": login_as,
        "other": other,
        "alice": alice,
        "team": team,
        "numbers": {
            "unassigned": unassigned.number,
            "mine": mine.number,
            "theirs": theirs.number,
            "waiting": waiting.number,
            "done": done.number,
        },
    }


def subjects(page: str) -> set[str]:
    return set(re.findall(r'class="sd-row-link"[^>]*>([^<]+)</a>', page))


def test_queue_views_and_their_counts(client, desk):
    login(client, desk["tech"].email)
    expected = {
        "unassigned": {"Unassigned printer", "Waiting on vendor"},
        "mine": {"My VPN ticket"},
        "my-teams": {"Olly&#39;s laptop"},
        "open": {"Unassigned printer", "My VPN ticket", "Olly&#39;s laptop", "Waiting on vendor"},
        "waiting": {"Waiting on vendor"},
        "resolved": {"Fixed yesterday"},
    }
    for view, titles in expected.items():
        page = page_text(client.get(f"/desk/?view={view}"))
        assert subjects(page) == titles, view
    counts = dict(re.findall(r'view=([\w-]+)">[^<]+<span class="badge sd-count">(\d+)', page))
    assert counts == {view: str(len(titles)) for view, titles in expected.items()}


def test_unknown_views_and_bad_filters_are_422_naming_the_parameter(client, desk):
    login(client, desk["tech"].email)
    for query in (
        "view=everything",
        "status=bogus",
        "priority=9",
        "team=abc",
        "assignee=someone",
        "sort=-password",
    ):
        response = client.get(f"/desk/?{query}")
        assert response.status_code == 422, query
        assert query.split("=")[0] in page_text(response), query


def test_filters_sort_and_search(client, session, desk):
    login(client, desk["tech"].email)
    n = desk["numbers"]
    service.update_ticket(
        session, desk["tech"], n["unassigned"], service.TicketChanges(priority=Priority.URGENT)
    )
    session.commit()
    service.add_comment(session, desk["tech"], n["waiting"], "Vendor ticket RMA-4471 opened", internal=True)
    session.commit()
    assert subjects(page_text(client.get("/desk/?view=open&priority=urgent"))) == {"Unassigned printer"}
    assert subjects(page_text(client.get(f"/desk/?view=open&team={desk['team'].id}"))) == {
        "Olly&#39;s laptop"
    }
    assert subjects(page_text(client.get(f"/desk/?view=open&assignee={desk['other'].id}"))) == {
        "Olly&#39;s laptop"
    }
    assert subjects(page_text(client.get("/desk/?view=open&status=resolved"))) == {"Fixed yesterday"}
    assert subjects(page_text(client.get("/desk/?view=open&q=rma"))) == {"Waiting on vendor"}
    page = page_text(client.get("/desk/?view=open&sort=-priority"))
    assert page.index("Unassigned printer") < page.index("My VPN ticket")
    assert "No tickets match" in page_text(client.get("/desk/?view=open&q=zzzz"))


def test_bulk_actions_change_several_tickets_and_report_refusals(client, session, desk):
    login(client, desk["tech"].email)
    n = desk["numbers"]
    token = form_token(client, "/desk/")
    response = client.post(
        "/desk/bulk",
        data={
            **token,
            "change": "priority:high",
            "next": "/desk/?view=open",
            "tickets": [n["unassigned"], n["mine"]],
        },
    )
    assert response.headers["Location"] == "/desk/?view=open"
    session.expire_all()
    assert {
        t.priority
        for t in session.scalars(select(Ticket).where(Ticket.number.in_([n["unassigned"], n["mine"]])))
    } == {Priority.HIGH}
    client.post("/desk/bulk", data={**token, "change": "status:pending", "tickets": [n["done"], n["mine"]]})
    page = page_text(client.get("/desk/"))
    assert "Updated 1 ticket(s)." in page and f"#{n['done']} was not changed" in page
    client.post(
        "/desk/bulk", data={**token, "change": f"assign:{desk['tech'].id}", "tickets": [n["unassigned"]]}
    )
    session.expire_all()
    assert (
        session.scalars(select(Ticket).where(Ticket.number == n["unassigned"])).one().assignee_id
        == desk["tech"].id
    )
    for bad, message in (
        ({"change": "explode:now", "tickets": [n["mine"]]}, "choose an assignee, a status or a priority"),
        ({"change": "priority:high"}, "select at least one ticket"),
        ({"change": "status:pending", "tickets": ["abc"]}, "Those tickets or that change are not valid."),
        ({"change": ""}, "Choose tickets and what to change."),
    ):
        client.post("/desk/bulk", data={**token, **bad})
        assert message in page_text(client.get("/desk/")), bad


def test_ticket_workspace_shows_notes_distinctly_and_the_activity_log(client, session, desk):
    n = desk["numbers"]["mine"]
    service.add_comment(session, desk["tech"], n, "Public answer")
    session.commit()
    service.add_comment(session, desk["tech"], n, "Private thought", internal=True)
    session.commit()
    login(client, desk["tech"].email)
    page = page_text(client.get(f"/desk/tickets/{n}"))
    assert "Public answer" in page and "Private thought" in page
    assert page.count("sd-entry-internal") == 1 and "Internal note</span>" in page
    assert "changed assignee from nobody to Tess Tech" in page and "added an internal note" in page


def test_reply_must_say_public_or_internal(client, session, desk):
    n = desk["numbers"]["unassigned"]
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{n}"
    missing = client.post(f"{url}/reply", data={**form_token(client, url), "body": "Hello"})
    assert missing.status_code == 422 and "Choose a public reply or an internal note." in page_text(missing)
    client.post(
        f"{url}/reply", data={**form_token(client, url), "body": "Only for us", "visibility": "internal"}
    )
    client.post(f"{url}/reply", data={**form_token(client, url), "body": "Hi Alice", "visibility": "public"})
    comments = reads.list_comments(session, desk["alice"], n)
    assert [c.body for c in comments] == ["Hi Alice"]
    session.expire_all()
    assert session.scalars(select(Ticket).where(Ticket.number == n)).one().status is Status.OPEN


def test_sidebar_changes_and_assign_to_me(client, session, desk):
    n = desk["numbers"]["unassigned"]
    category = make_category(session, "Printers")
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{n}"
    client.post(f"{url}/assign-to-me", data={**form_token(client, url), "version": "1"})
    ticket = session.scalars(select(Ticket).where(Ticket.number == n)).one()
    session.refresh(ticket)
    assert ticket.assignee_id == desk["tech"].id and ticket.version == 2
    response = client.post(
        f"{url}/update",
        data={
            **form_token(client, url),
            "version": "2",
            "status": "pending",
            "priority": "high",
            "assignee": str(desk["other"].id),
            "team": str(desk["team"].id),
            "category": str(category.id),
        },
    )
    assert response.status_code == 302
    session.refresh(ticket)
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.team_id, ticket.category_id) == (
        Status.PENDING,
        Priority.HIGH,
        desk["other"].id,
        desk["team"].id,
        category.id,
    )


def test_a_stale_form_is_refused_and_shows_the_current_state(client, session, desk):
    n = desk["numbers"]["unassigned"]
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{n}"
    token = form_token(client, url)
    # Someone else changes the ticket after our page loaded (version 1 -> 2).
    service.update_ticket(session, desk["other"], n, service.TicketChanges(priority=Priority.URGENT))
    session.commit()
    response = client.post(
        f"{url}/update",
        data={
            **token,
            "version": "1",
            "status": "new",
            "priority": "low",
            "assignee": "",
            "team": "",
            "category": "",
        },
    )
    # Shown again after a redirect (a reload sends nothing), saying who changed what, with our choice.
    assert response.status_code == 303 and "/update" not in response.headers["Location"]
    page = page_text(client.get(response.headers["Location"]))
    assert "Nothing was saved" in page and "changed the priority from Normal to Urgent" in page
    assert '<option value="low" selected>' in page
    session.expire_all()
    assert session.scalars(select(Ticket).where(Ticket.number == n)).one().priority is Priority.URGENT
    stale_assign = client.post(f"{url}/assign-to-me", data={**token, "version": "1"})
    assert stale_assign.status_code == 303
    assert "Someone else changed this ticket" in page_text(client.get(stale_assign.headers["Location"]))


def test_invalid_sidebar_values_are_clear_errors(client, session, desk):
    n = desk["numbers"]["done"]
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{n}"
    bad = client.post(
        f"{url}/update",
        data={
            **form_token(client, url),
            "version": "2",
            "status": "pending",
            "priority": "normal",
            "assignee": "",
            "team": "",
            "category": "",
        },
    )
    assert bad.status_code == 409 and "cannot go from resolved to pending" in page_text(bad)
    garbage = client.post(f"{url}/update", data={**form_token(client, url), "version": "x", "status": "nope"})
    assert garbage.status_code == 422


def test_requesters_get_not_found_on_every_desk_page(client, session, desk):
    login(client, desk["alice"].email)
    n = desk["numbers"]["mine"]
    token = form_token(client, "/portal/new")
    for method, url in (
        ("get", "/desk/"),
        ("get", f"/desk/tickets/{n}"),
        ("post", f"/desk/tickets/{n}/reply"),
        ("post", f"/desk/tickets/{n}/update"),
        ("post", f"/desk/tickets/{n}/assign-to-me"),
        ("post", "/desk/bulk"),
    ):
        response = getattr(client, method)(url, data=token if method == "post" else None)
        assert response.status_code == 404, url
    assert session.scalars(select(TicketEvent).where(TicketEvent.kind == "comment")).all() == []


def test_admins_work_the_desk_too(client, session, desk):
    admin = make_admin(session)
    login(client, admin.email)
    assert client.get("/desk/?view=open").status_code == 200


@pytest.mark.parametrize(
    "payload", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"]
)
def test_ticket_text_renders_inert_on_desk_pages(client, session, desk, payload):
    ticket = make_ticket(session, desk["alice"], subject=payload, description=payload)
    service.add_comment(session, desk["tech"], ticket.number, payload, internal=True)
    session.commit()
    login(client, desk["tech"].email)
    for url in ("/desk/?view=open", f"/desk/tickets/{ticket.number}"):
        assert_page_inert(page_text(client.get(url)))


def test_desk_pages_read_the_pickers_names_once_in_a_while(clean_app, client, desk):
    """Every staff, team and category name the filters and pickers offer is read once per process
    every few seconds, not on every page view."""
    login(client, desk["tech"].email)
    client.get("/desk/")
    with counting(clean_app) as statements:
        assert client.get("/desk/").status_code == 200
        assert client.get(f"/desk/tickets/{desk['numbers']['mine']}").status_code == 200
    assert not [s for s in statements if "FROM teams" in s]


def test_a_team_added_in_this_process_shows_in_the_desk_at_once(client, session, desk):
    login(client, desk["tech"].email)
    assert "Printers" not in page_text(client.get("/desk/"))
    make_team(session, "Printers")
    assert "Printers" in page_text(client.get("/desk/"))


def test_a_change_is_checked_against_the_current_names_not_the_cached_ones(client, session, desk):
    """A team another app process has just added may not be in this process's pickers yet, but
    choosing it is not refused."""
    n = desk["numbers"]["mine"]
    url = f"/desk/tickets/{n}"
    login(client, desk["tech"].email)
    client.get(url)
    session.execute(text("INSERT INTO teams (name, created_at) VALUES ('Elsewhere', CURRENT_TIMESTAMP)"))
    session.commit()
    team_id = session.scalar(select(Team.id).where(Team.name == "Elsewhere"))
    fields = {"version": "2", "status": "open", "priority": "normal", "assignee": str(desk["tech"].id)}
    response = client.post(
        f"{url}/update", data={**form_token(client, url), **fields, "team": str(team_id), "category": ""}
    )
    assert response.status_code == 302, page_text(response)
    assert session.scalar(select(Ticket.team_id).where(Ticket.number == n)) == team_id


def test_the_filters_show_what_was_chosen(client, desk):
    login(client, desk["tech"].email)
    team = desk["team"].id
    page = client.get(
        f"/desk/?view=open&q=vpn&status=pending&priority=high&team={team}&assignee=me&sort=-created_at"
    ).get_data(as_text=True)
    selected = set(re.findall(r'<option value="([^"]*)" selected>', page))
    assert selected == {"pending", "high", str(team), "me", "-created_at"}
    assert 'name="q" value="vpn"' in page
