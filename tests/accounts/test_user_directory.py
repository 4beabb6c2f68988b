"""The admins' users page at a desk's size: searched by part of a name or email, filtered by role and
status, paged with a count, in a constant number of statements; names edited in place; a new email
address confirmed from that address, as when users change their own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.accounts import reads
from supportdesk.accounts.models import Role, User
from supportdesk.core.errors import PermissionDenied, ValidationError
from tests.accounts.test_recovery import CONFIRM, mail_to
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_technician
from tests.test_query_counts import counting

PAGE_BUDGET = 5


def test_users_are_searched_filtered_and_paged(session):
    admin = make_admin(session, full_name="Ada Admin")
    make_technician(session, full_name="Sam Okafor", email="sam@example.com")
    make_requester(session, full_name="Erin Employee", email="erin@example.com")
    make_requester(session, full_name="Eric Elsewhere", email="eric@corp.example", is_active=False)
    for n in range(5):
        make_requester(session, full_name=f"Zed {n}", email=f"zed{n}@example.com")
    page = reads.user_page(session, admin, reads.UserQuery(text="ERI"))
    assert [u.full_name for u in page.rows] == ["Eric Elsewhere", "Erin Employee"]
    assert page.total == 2
    page = reads.user_page(session, admin, reads.UserQuery(role=Role.TECHNICIAN))
    assert [u.full_name for u in page.rows] == ["Sam Okafor"]
    page = reads.user_page(session, admin, reads.UserQuery(status="deactivated"))
    assert [u.email for u in page.rows] == ["eric@corp.example"]
    first = reads.user_page(session, admin, reads.UserQuery(text="zed", size=2))
    assert ([u.full_name for u in first.rows], first.total, first.pages) == (["Zed 0", "Zed 1"], 5, 3)
    last = reads.user_page(session, admin, reads.UserQuery(text="zed", size=2, page=3))
    assert [u.full_name for u in last.rows] == ["Zed 4"] and not last.has_next and last.has_previous
    beyond = reads.user_page(session, admin, reads.UserQuery(text="zed", size=2, page=99))
    assert beyond.page == 3 and [u.full_name for u in beyond.rows] == ["Zed 4"]
    with pytest.raises(PermissionDenied):
        reads.user_page(session, make_technician(session), reads.UserQuery())


@pytest.mark.parametrize("count", [3, 150])
def test_the_users_page_costs_the_same_statements_at_any_size(clean_app, client, session, count):
    make_admin(session, email="ada@example.com")
    for n in range(count):
        make_requester(session, full_name=f"Person {n:03}", email=f"p{n}@example.com")
    login(client, "ada@example.com")
    client.get("/admin/users?q=person&role=requester")  # warm
    with counting(clean_app) as statements:
        response = client.get("/admin/users?q=person&role=requester&page=2")
    assert response.status_code == 200
    assert len(statements) <= PAGE_BUDGET, statements
    text = " ".join(page_text(response).split())
    shown = "51 to 100" if count > 50 else f"1 to {count}"
    assert f"Showing {shown} of {count}" in text, text[:600]


def test_an_admin_renames_a_user_and_a_new_address_waits_for_its_confirmation(clean_app, client, session):
    make_admin(session, email="ada@example.com")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employe")
    login(client, "ada@example.com")
    response = client.post(
        f"/admin/users/{erin.id}",
        data={
            **form_token(client, "/admin/users"),
            "full_name": "Erin Employee",
            "email": "erin.new@example.com",
        },
        follow_redirects=True,
    )
    text = page_text(response)
    assert "Erin Employee is now called Erin Employee" not in text
    assert "sent a confirmation link to erin.new@example.com" in text
    session.expire_all()
    user = session.get(User, erin.id)
    assert (user.full_name, user.email) == ("Erin Employee", "erin@example.com")
    [notice] = mail_to(session, "erin@example.com")
    assert "erin.new@example.com" in notice.raw
    [confirmation] = mail_to(session, "erin.new@example.com")
    path = CONFIRM.search(confirmation.raw.replace("=\r\n", "").replace("=3D", "=")).group(1)
    assert client.get(path, follow_redirects=True).status_code == 200
    session.expire_all()
    assert session.get(User, erin.id).email == "erin.new@example.com"


def test_a_taken_or_invalid_address_is_refused_and_nothing_changes(clean_app, client, session):
    make_admin(session, email="ada@example.com")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_requester(session, email="taken@example.com")
    login(client, "ada@example.com")
    for email, name in (
        ("taken@example.com", "Erin E"),
        ("not an address", "Erin E"),
        ("erin@example.com", " "),
    ):
        response = client.post(
            f"/admin/users/{erin.id}",
            data={**form_token(client, "/admin/users"), "full_name": name, "email": email},
            follow_redirects=True,
        )
        assert response.status_code in (200, 422)
        session.expire_all()
        user = session.scalars(select(User).where(User.id == erin.id)).one()
        assert (user.full_name, user.email) == ("Erin Employee", "erin@example.com")
        assert mail_to(session, email) == []


def test_only_admins_edit_users(session):
    from supportdesk.accounts import service

    erin = make_requester(session, full_name="Erin Employee")
    with pytest.raises(PermissionDenied):
        service.update_user(session, make_technician(session), erin.id, full_name="X")
    with pytest.raises(ValidationError):
        service.update_user(session, make_admin(session), erin.id, full_name="  ")


def test_the_api_lists_users_by_page_with_the_same_filters(clean_app, session, api_as):
    admin = make_admin(session, full_name="Ada Admin")
    make_technician(session, full_name="Sam Okafor", email="sam@example.com")
    for n in range(7):
        make_requester(session, full_name=f"Zed {n}", email=f"zed{n}@example.com")
    api = api_as(admin)
    first = api.get("/api/v1/users?q=zed&size=3").get_json()
    assert [u["full_name"] for u in first["items"]] == ["Zed 0", "Zed 1", "Zed 2"]
    assert (first["total"], first["page"], first["pages"]) == (7, 1, 3)
    last = api.get("/api/v1/users?q=zed&size=3&page=3").get_json()
    assert [u["full_name"] for u in last["items"]] == ["Zed 6"]
    techs = api.get("/api/v1/users?role=technician").get_json()
    assert [u["email"] for u in techs["items"]] == ["sam@example.com"]
    assert api.get("/api/v1/users?role=boss").status_code == 422
    assert api.get("/api/v1/users?size=1000").status_code == 422
    with counting(clean_app) as statements:
        assert api.get("/api/v1/users?size=200").status_code == 200
    assert len(statements) <= 6, statements
