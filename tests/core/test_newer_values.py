"""A release rolled back onto data a newer release wrote keeps serving. Expand-then-contract keeps the
schema readable (CONTRIBUTING.md); this is the same promise for stored values: a newer release adds
event kinds, notification kinds and the like, and the pages of the older one must still open on
tickets and lists that hold them, showing the new kind by its stored name."""

from __future__ import annotations

from sqlalchemy import text

from supportdesk.tickets.models import EventKind
from tests.conftest import login, page_text
from tests.factories import make_requester, make_technician, make_ticket

NEWER = "zz_later_kind"  # no kind of this release: a later one's (16 characters at most)


def write_as_a_newer_release(session, ticket_id: int, user_id: int) -> None:
    session.execute(
        text(
            "INSERT INTO ticket_events (ticket_id, actor_id, kind, old_value, new_value, created_at)"
            " VALUES (:t, :u, :k, NULL, '42', CURRENT_TIMESTAMP)"
        ),
        {"t": ticket_id, "u": user_id, "k": NEWER},
    )
    session.execute(
        text(
            "INSERT INTO notifications (user_id, ticket_id, kind, title, excerpt, created_at)"
            " VALUES (:u, :t, :k, 'Merged', '', CURRENT_TIMESTAMP)"
        ),
        {"t": ticket_id, "u": user_id, "k": NEWER},
    )
    session.commit()


def test_the_desk_and_the_portal_open_tickets_holding_a_newer_kind(client, session, api_as):
    requester = make_requester(session)
    tech = make_technician(session)
    ticket = make_ticket(session, requester)
    write_as_a_newer_release(session, ticket.id, tech.id)
    write_as_a_newer_release(session, ticket.id, requester.id)
    assert NEWER not in {kind.value for kind in EventKind}

    login(client, tech.email)
    page = client.get(f"/desk/tickets/{ticket.number}")
    assert page.status_code == 200
    assert NEWER.replace("_", " ") in page_text(page).replace("_", " ")
    assert client.get("/notifications").status_code == 200
    assert client.get("/notifications/badge").status_code == 200

    events = api_as(tech).get(f"/api/v1/tickets/{ticket.number}/events")
    assert events.status_code == 200
    assert NEWER in {event["kind"] for event in events.get_json()["items"]}

    portal = client.application.test_client()
    login(portal, requester.email)
    assert portal.get(f"/portal/tickets/{ticket.number}").status_code == 200
    assert portal.get("/notifications").status_code == 200


def test_a_known_kind_still_loads_as_itself(session):
    ticket = make_ticket(session, make_requester(session))
    session.expire_all()
    kinds = session.execute(text("SELECT kind FROM ticket_events WHERE ticket_id = :t"), {"t": ticket.id})
    assert [k for (k,) in kinds] == ["created"]
    assert ticket.events[0].kind is EventKind.CREATED
