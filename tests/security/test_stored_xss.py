"""Stored XSS: hostile text in every field people can write shows up inert on every page that shows it,
and as plain data in the API."""

from __future__ import annotations

import io

import pytest

from supportdesk.attachments.service import Upload
from supportdesk.attachments.web import file_store
from supportdesk.tickets import service
from tests.conftest import login, page_text
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician
from tests.html_safety import assert_page_inert

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<svg onload=alert(1)>",
    '"><iframe src=javascript:alert(1)>',
    "<a href='jav&#x61;script:alert(1)'>x</a>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_is_inert_on_every_page(clean_app, client, api_as, session, payload):
    team = make_team(session, f"Team {payload}"[:80])
    category = make_category(session, f"Cat {payload}"[:80], team=team)
    requester = make_requester(session, full_name=f"Req {payload}"[:120])
    tech = make_technician(session, full_name=f"Tech {payload}"[:120], teams=[team])
    admin = make_admin(session)
    with clean_app.test_request_context():
        store = file_store()
    ticket = service.create_ticket(
        session,
        requester,
        subject=f"S {payload}",
        description=f"D {payload}",
        category_id=category.id,
        uploads=[Upload(f"{payload}.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 30))],
        files=store,
    )
    session.commit()
    service.assign(session, tech, ticket.number, tech.id)
    session.commit()
    service.add_comment(session, tech, ticket.number, f"C {payload}")
    session.commit()
    service.add_comment(session, tech, ticket.number, f"N {payload}", internal=True)
    session.commit()
    pages = {
        requester: [
            "/portal/",
            "/portal/?tab=open&q=S",
            f"/portal/tickets/{ticket.number}",
            "/portal/new",
            "/portal/similar?subject=S",
        ],
        tech: ["/desk/?view=open", "/desk/?view=mine", f"/desk/tickets/{ticket.number}"],
        admin: ["/admin/users", "/admin/teams", "/admin/categories"],
    }
    for user, urls in pages.items():
        client.delete_cookie("session")
        login(client, user.email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_page_inert(page_text(response))
    body = api_as(tech).get(f"/api/v1/tickets/{ticket.number}").get_json()
    assert body["subject"] == f"S {payload}"  # plain data: the API never renders or mangles it
