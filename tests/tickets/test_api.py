"""The ticket API: every endpoint and permission boundary, on both databases."""

import threading

import pytest
from sqlalchemy import func, select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, Ticket, TicketEvent
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket


@pytest.fixture
def people(session):
    return {
        "alice": make_requester(session, full_name="Alice"),
        "bob": make_requester(session, full_name="Bob"),
        "tech": make_technician(session, full_name="Tess"),
        "admin": make_admin(session),
    }


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_create_returns_201_location_and_etag(api_as, people, session):
    network = make_team(session, "Network")
    vpn = make_category(session, "VPN", team=network)
    api = api_as(people["alice"])
    response = api.post(
        "/api/v1/tickets",
        json={"subject": "VPN down", "description": "Since 9am", "priority": "high", "category_id": vpn.id},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tickets/{body['number']}"
    assert response.headers["ETag"] == '"1"'
    assert body["status"] == "new" and body["team"] == {"id": network.id, "name": "Network"}
    assert body["requester"] == {"id": people["alice"].id, "full_name": "Alice"}
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "ok", "priority": "sky-high"}, "priority"),
        ({"subject": "ok", "unknown": 1}, "unknown"),
        ({"subject": 42}, "subject"),
        ({"subject": "ok", "category_id": 2**40}, "category_id"),
        ({}, "subject"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(api_as, people, session, payload, field):
    response = api_as(people["alice"]).post("/api/v1/tickets", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert count(session, Ticket) == 0


def test_malformed_requests_are_4xx_never_5xx(api_as, people):
    api = api_as(people["alice"])
    assert api.post("/api/v1/tickets", data="{not json", content_type="application/json").status_code == 400
    assert api.post("/api/v1/tickets", data=b"\xff\xfe", content_type="application/json").status_code == 400
    assert api.post("/api/v1/tickets", data="subject=x", content_type="text/plain").status_code == 415
    assert api.post("/api/v1/tickets", data="[]", content_type="application/json").status_code == 422
    huge = '{"subject": "' + "x" * (1024 * 1024) + '"}'
    assert api.post("/api/v1/tickets", data=huge, content_type="application/json").status_code == 413
    assert api.get("/api/v1/tickets/99999999999").status_code == 404
    assert api.get("/api/v1/tickets?limit=0").status_code == 422
    assert api.get("/api/v1/tickets?limit=abc").status_code == 422
    assert api.get("/api/v1/tickets?cursor=garbage").status_code == 422
    assert api.get("/api/v1/tickets?updated_since=yesterday").status_code == 422
    assert api.get("/api/v1/tickets?updated_since=2026-01-01T00:00:00").status_code == 422  # no offset
    assert api.get("/api/v1/tickets?assignee=robert').--").status_code == 422
    assert api.delete("/api/v1/tickets/1").status_code == 405


def test_requests_without_a_valid_token_are_401(client, people):
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer sd_" + "x" * 43},
    ):
        response = client.get("/api/v1/tickets", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_requester_lists_only_their_own_tickets_whatever_the_filters(api_as, people, session):
    mine = make_ticket(session, people["alice"], subject="Mine")
    make_ticket(session, people["bob"], subject="Bob's")
    api = api_as(people["alice"])
    for query in (
        "",
        f"?requester={people['bob'].id}",
        "?assignee=none",
        "?q=bob",
        "?status=new&status=open",
    ):
        numbers = [t["number"] for t in api.get(f"/api/v1/tickets{query}").get_json()["items"]]
        assert set(numbers) <= {mine.number}, query
    assert api.get(f"/api/v1/tickets/{mine.number + 1}").status_code == 404


def test_list_filters_sort_and_cursor_pages(api_as, people, session):
    tech = people["tech"]
    numbers = [make_ticket(session, people["alice"], subject=f"Printer {i}").number for i in range(5)]
    service.assign(session, tech, numbers[0], tech.id)
    session.commit()
    service.transition(session, tech, numbers[1], Status.PENDING)
    session.commit()
    service.add_comment(session, tech, numbers[2], "replaced the fuser")
    session.commit()
    api = api_as(tech)
    got = lambda q: [t["number"] for t in api.get(f"/api/v1/tickets{q}").get_json()["items"]]  # noqa: E731
    assert got("?assignee=me") == [numbers[0]]
    assert got(f"?assignee={tech.id}") == [numbers[0]]
    assert set(got("?assignee=none")) == set(numbers[1:])
    assert got("?status=pending") == [numbers[1]]
    assert got("?q=fuser") == [numbers[2]]
    assert got("?sort=number") == numbers
    pages, cursor = [], None
    while True:
        body = api.get(
            "/api/v1/tickets?sort=-number&limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).get_json()
        pages.append([t["number"] for t in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == [numbers[::-1][0:2], numbers[::-1][2:4], numbers[::-1][4:]]


def test_patch_needs_if_match_and_refuses_stale_versions(api_as, people, session):
    ticket = make_ticket(session, people["alice"])
    api = api_as(people["tech"])
    url = f"/api/v1/tickets/{ticket.number}"
    assert api.patch(url, json={"priority": "high"}).status_code == 428
    ok = api.patch(
        url, json={"priority": "high", "assignee_id": people["tech"].id}, headers={"If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    assert ok.get_json()["assignee"]["id"] == people["tech"].id
    stale = api.patch(url, json={"priority": "low"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and 'Current ETag: "2"' in stale.get_json()["detail"]
    assert api.patch(url, json={"priority": "low"}, headers={"If-Match": "garbage"}).status_code == 412
    cleared = api.patch(url, json={"assignee_id": None}, headers={"If-Match": 'W/"2"'})
    assert cleared.status_code == 200 and cleared.get_json()["assignee"] is None
    assert api.patch(url, json={"status": None}, headers={"If-Match": '"3"'}).status_code == 422


def test_patch_refuses_transitions_the_life_cycle_forbids(api_as, people, session):
    ticket = make_ticket(session, people["alice"])
    service.transition(session, people["tech"], ticket.number, Status.RESOLVED)
    session.commit()
    response = api_as(people["tech"]).patch(
        f"/api/v1/tickets/{ticket.number}", json={"status": "pending"}, headers={"If-Match": '"2"'}
    )
    assert (
        response.status_code == 409 and "cannot go from resolved to pending" in response.get_json()["detail"]
    )


def test_mass_assignment_by_a_requester_is_refused_and_named(api_as, people, session):
    own = make_ticket(session, people["alice"])
    other = make_ticket(session, people["bob"])
    api = api_as(people["alice"])
    response = api.patch(
        f"/api/v1/tickets/{own.number}",
        json={"assignee_id": people["alice"].id, "priority": "urgent"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 403 and response.get_json()["fields"] == ["assignee_id", "priority"]
    foreign = api.patch(
        f"/api/v1/tickets/{other.number}", json={"status": "closed"}, headers={"If-Match": '"1"'}
    )
    assert foreign.status_code == 404
    session.expire_all()
    assert session.get(Ticket, other.id).status is Status.NEW
    assert session.get(Ticket, own.id).assignee_id is None
    closed = api.patch(
        f"/api/v1/tickets/{own.number}", json={"status": "closed"}, headers={"If-Match": '"1"'}
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_comments_and_internal_notes(api_as, people, session):
    ticket = make_ticket(session, people["alice"])
    tech, alice, bob = api_as(people["tech"]), api_as(people["alice"]), api_as(people["bob"])
    url = f"/api/v1/tickets/{ticket.number}/comments"
    assert tech.post(url, json={"body": "Looking", "internal": True}).status_code == 201
    reply = tech.post(url, json={"body": "Try again now"})
    assert reply.status_code == 201 and reply.get_json()["internal"] is False
    assert [c["body"] for c in alice.get(url).get_json()["items"]] == ["Try again now"]
    assert len(tech.get(url).get_json()["items"]) == 2
    refused = alice.post(url, json={"body": "sneaky", "internal": True})
    assert refused.status_code == 403 and refused.get_json()["fields"] == ["internal"]
    assert bob.get(url).status_code == 404 and bob.post(url, json={"body": "hi"}).status_code == 404
    assert alice.post(url, json={"body": ""}).status_code == 422
    assert count(session, Comment) == 2


def test_events_are_for_the_desk(api_as, people, session):
    ticket = make_ticket(session, people["alice"])
    url = f"/api/v1/tickets/{ticket.number}/events"
    body = api_as(people["tech"]).get(url).get_json()
    assert [e["kind"] for e in body["items"]] == ["created"]
    assert api_as(people["alice"]).get(url).status_code == 403
    assert api_as(people["bob"]).get(url).status_code == 404


def test_a_retried_create_with_the_same_idempotency_key_yields_one_ticket(api_as, people, session):
    api = api_as(people["alice"])
    payload = {"subject": "Monitor flickers", "description": "Every few seconds"}
    first = api.post("/api/v1/tickets", json=payload, headers={"Idempotency-Key": "req-123"})
    again = api.post("/api/v1/tickets", json=payload, headers={"Idempotency-Key": "req-123"})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["number"] == again.get_json()["number"]
    assert count(session, Ticket) == 1
    different = api.post("/api/v1/tickets", json={"subject": "Other"}, headers={"Idempotency-Key": "req-123"})
    assert different.status_code == 422 and "different request" in different.get_json()["detail"]
    other_user = api_as(people["bob"]).post(
        "/api/v1/tickets", json=payload, headers={"Idempotency-Key": "req-123"}
    )
    assert other_user.status_code == 201 and count(session, Ticket) == 2


def test_concurrent_retries_with_one_key_still_yield_one_ticket(app, api_as, people, session, backend):
    api = api_as(people["alice"])
    results: list[int] = []

    def create() -> None:
        response = app.test_client().post(
            "/api/v1/tickets",
            json={"subject": "Keyboard dead"},
            headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "k"},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 6
    assert count(session, Ticket) == 1


def test_two_clients_patching_with_the_same_etag_exactly_one_wins(app, api_as, people, session):
    ticket = make_ticket(session, people["alice"])
    tokens = [api_as(people["tech"]).token, api_as(people["admin"]).token]
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def patch(token: str, priority: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.patch(
            f"/api/v1/tickets/{ticket.number}",
            json={"priority": priority},
            headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'},
        )
        statuses[priority] = response.status_code

    threads = [
        threading.Thread(target=patch, args=(tokens[0], "high")),
        threading.Thread(target=patch, args=(tokens[1], "low")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses.values()) == [200, 412]
    winner = next(p for p, s in statuses.items() if s == 200)
    session.expire_all()
    stored = session.get(Ticket, ticket.id)
    assert stored.priority.value == winner and stored.version == 2
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "priority")
    ).all()
    assert [(e.old_value, e.new_value) for e in events] == [("normal", winner)]
