"""The admin pages: users, teams, categories."""

import pytest
from sqlalchemy import select

from supportdesk.accounts.models import Role, Team, User
from supportdesk.tickets.models import Category
from tests.conftest import csrf_token, form_token, login, page_text
from tests.factories import PASSWORD, make_admin, make_requester, make_team, make_technician
from tests.html_safety import assert_page_inert


@pytest.fixture
def admin(session):
    return make_admin(session, full_name="Ada Admin")


def test_non_admins_get_not_found(client, session):
    for user in (make_requester(session), make_technician(session)):
        login(client, user.email)
        for url in ("/admin/users", "/admin/teams", "/admin/categories"):
            assert client.get(url).status_code == 404
        assert (
            client.post(
                "/admin/users",
                data={
                    **form_token(client, "/portal/new"),
                    "email": "x@y.z",
                    "full_name": "X",
                    "role": "admin",
                    "password": "password1",
                },
            ).status_code
            == 404
        )
        client.delete_cookie("session")
    assert session.scalars(select(User).where(User.email == "x@y.z")).first() is None


def test_admin_creates_a_user_who_can_sign_in(client, session, admin):
    login(client, admin.email)
    response = client.post(
        "/admin/users",
        data={
            **form_token(client, "/admin/users"),
            "full_name": "New Tech",
            "email": "New.Tech@example.com",
            "role": "technician",
            "password": "s3cret-pass",
        },
    )
    assert response.status_code == 302
    assert "New Tech can now sign in as new.tech@example.com." in page_text(client.get("/admin/users"))
    client.delete_cookie("session")
    login(client, "new.tech@example.com", "s3cret-pass")


def test_bad_new_user_input_is_explained(client, session, admin):
    login(client, admin.email)
    token = form_token(client, "/admin/users")
    short = client.post(
        "/admin/users",
        data={**token, "full_name": "X", "email": "x@example.com", "role": "admin", "password": "short"},
    )
    assert short.status_code == 422 and "between 8 and 1024 characters" in page_text(short)
    duplicate = client.post(
        "/admin/users",
        data={
            **token,
            "full_name": "Again",
            "email": admin.email.upper(),
            "role": "admin",
            "password": "long enough",
        },
    )
    assert duplicate.status_code == 422 and "a user with this email already exists" in page_text(duplicate)


def test_deactivated_user_is_signed_out_and_cannot_sign_in(app, session, admin):
    victim = make_requester(session, full_name="Leaving Larry")
    admin_client, victim_client = app.test_client(), app.test_client()
    login(victim_client, victim.email)
    login(admin_client, admin.email)
    admin_client.post(
        f"/admin/users/{victim.id}", data={**form_token(admin_client, "/admin/users"), "active": "0"}
    )
    assert "Leaving Larry is now a requester, deactivated" in page_text(admin_client.get("/admin/users"))
    assert victim_client.get("/portal/").status_code == 302
    token = csrf_token(victim_client, "/login")
    refused = victim_client.post(
        "/login", data={"email": victim.email, "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 401


def test_role_changes_and_self_protection(client, session, admin):
    user = make_requester(session)
    login(client, admin.email)
    token = form_token(client, "/admin/users")
    client.post(f"/admin/users/{user.id}", data={**token, "role": "technician"})
    session.refresh(user)
    assert user.role is Role.TECHNICIAN
    client.post(f"/admin/users/{admin.id}", data={**token, "role": "requester"})
    assert "cannot demote or deactivate yourself" in page_text(client.get("/admin/users"))
    client.post(f"/admin/users/{user.id}", data={**token, "role": "overlord"})
    assert "That role does not exist." in page_text(client.get("/admin/users"))
    assert client.post("/admin/users/99999", data={**token, "role": "admin"}).status_code == 404


def test_teams_and_members(client, session, admin):
    tech = make_technician(session, full_name="Tess Tech")
    login(client, admin.email)
    token = form_token(client, "/admin/teams")
    client.post("/admin/teams", data={**token, "name": "Field Service"})
    team = session.scalars(select(Team)).one()
    client.post(f"/admin/teams/{team.id}/members", data={**token, "members": [tech.id, admin.id]})
    page = page_text(client.get("/admin/teams"))
    assert "Field Service now has 2 member(s)." in page
    duplicate = client.post("/admin/teams", data={**token, "name": "Field Service"})
    assert duplicate.status_code == 422 and "already exists" in page_text(duplicate)
    client.post(f"/admin/teams/{team.id}/members", data={**token, "members": ["abc"]})
    assert "Choose members from the list." in page_text(client.get("/admin/teams"))


def test_categories_and_their_default_team(client, session, admin):
    team = make_team(session, "Hardware")
    login(client, admin.email)
    token = form_token(client, "/admin/categories")
    client.post("/admin/categories", data={**token, "name": "Laptops", "default_team": str(team.id)})
    category = session.scalars(select(Category)).one()
    assert category.default_team_id == team.id
    client.post(f"/admin/categories/{category.id}", data={**token, "default_team": ""})
    client.post(f"/admin/categories/{category.id}", data={**token, "active": "0"})
    session.refresh(category)
    assert category.default_team_id is None and not category.is_active
    client.post(f"/admin/categories/{category.id}", data={**token, "default_team": "zzz"})
    assert "Choose a team from the list." in page_text(client.get("/admin/categories"))
    bad = client.post("/admin/categories", data={**token, "name": "Laptops"})
    assert bad.status_code == 422


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"])
def test_names_render_inert_on_admin_pages(client, session, admin, payload):
    make_requester(session, full_name=payload)
    make_team(session, payload)
    session.add(Category(name=payload[:80], is_active=True))
    session.commit()
    login(client, admin.email)
    for url in ("/admin/users", "/admin/teams", "/admin/categories"):
        assert_page_inert(page_text(client.get(url)))
