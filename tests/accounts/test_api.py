"""Tokens, /me, and the admins' users, teams and categories through the API."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from supportdesk.accounts import tokens
from supportdesk.accounts.models import ApiToken, Role, User
from supportdesk.core import clock
from tests.factories import PASSWORD, make_admin, make_requester, make_team, make_technician


def test_tokens_are_issued_once_stored_hashed_listed_and_revoked(client, session):
    user = make_requester(session, email="erin@example.com")
    created = client.post(
        "/api/v1/tokens", json={"email": "ERIN@example.com", "password": PASSWORD, "name": "laptop script"}
    )
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    body = created.get_json()
    secret = body["token"]
    assert set(body) == {"id", "token", "name", "created_at", "expires_at"}
    stored = session.scalars(select(ApiToken)).one()
    assert secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=auth).get_json()["email"] == user.email
    listed = client.get("/api/v1/tokens", headers=auth).get_json()["items"]
    assert [t["name"] for t in listed] == ["laptop script"] and "token" not in listed[0]
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=auth).status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_wrong_credentials_get_no_token(client, session):
    make_requester(session, email="erin@example.com")
    for email, password in (("erin@example.com", "wrong"), ("nobody@example.com", PASSWORD)):
        response = client.post("/api/v1/tokens", json={"email": email, "password": password, "name": "x"})
        assert response.status_code == 403
        assert response.get_json()["detail"] == "That email and password do not match an active account."
    assert (
        client.post(
            "/api/v1/tokens", json={"email": "erin@example.com", "password": PASSWORD, "name": " "}
        ).status_code
        == 422
    )


def test_others_tokens_cannot_be_revoked(api_as, session):
    alice, bob = make_requester(session), make_requester(session)
    bob_api = api_as(bob)
    bob_token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == bob.id)).one()
    assert api_as(alice).delete(f"/api/v1/tokens/{bob_token_id}").status_code == 404
    assert bob_api.get("/api/v1/me").status_code == 200


def test_expired_tokens_and_deactivated_users_stop_working(api_as, session):
    user, admin = make_requester(session), make_admin(session)
    api = api_as(user)
    with clock.frozen_at(clock.now() + timedelta(days=91)):
        assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me").status_code == 200
    api_as(admin).patch(f"/api/v1/users/{user.id}", json={"is_active": False})
    assert api.get("/api/v1/me").status_code == 401
    api_as(admin).patch(f"/api/v1/users/{user.id}", json={"is_active": True})
    assert api.get("/api/v1/me").status_code == 401  # revoked at deactivation, not merely paused


def test_admins_manage_users(api_as, session):
    admin = make_admin(session)
    api = api_as(admin)
    created = api.post(
        "/api/v1/users",
        json={
            "email": "New@Example.com",
            "full_name": "New Tech",
            "role": "technician",
            "password": "long enough",
        },
    )
    assert created.status_code == 201 and created.get_json()["email"] == "new@example.com"
    user_id = created.get_json()["id"]
    assert created.headers["Location"] == f"/api/v1/users/{user_id}"
    changed = api.patch(f"/api/v1/users/{user_id}", json={"role": "admin", "full_name": "Renamed"})
    assert changed.get_json()["role"] == "admin" and changed.get_json()["full_name"] == "Renamed"
    assert {u["email"] for u in api.get("/api/v1/users").get_json()["items"]} == {
        admin.email,
        "new@example.com",
    }
    assert (
        api.post(
            "/api/v1/users",
            json={"email": "new@example.com", "full_name": "Again", "password": "long enough"},
        ).status_code
        == 422
    )
    assert api.patch("/api/v1/users/99999", json={"role": "admin"}).status_code == 404
    assert api.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}).status_code == 422


@pytest.mark.parametrize("make", [make_requester, make_technician])
def test_non_admins_cannot_manage_and_cannot_promote_themselves(api_as, session, make):
    user = make(session)
    api = api_as(user)
    assert api.get("/api/v1/users").status_code == 403
    assert (
        api.post(
            "/api/v1/users", json={"email": "x@example.com", "full_name": "X", "password": "long enough"}
        ).status_code
        == 403
    )
    assert api.patch(f"/api/v1/users/{user.id}", json={"role": "admin"}).status_code == 403
    assert api.post("/api/v1/teams", json={"name": "Rogue"}).status_code == 403
    assert api.post("/api/v1/categories", json={"name": "Rogue"}).status_code == 403
    session.expire_all()
    assert session.get(User, user.id).role is not Role.ADMIN
    assert session.scalars(select(User).where(User.role == Role.ADMIN)).first() is None


def test_teams_through_the_api(api_as, session):
    admin, tech, requester = make_admin(session), make_technician(session), make_requester(session)
    api = api_as(admin)
    team = api.post("/api/v1/teams", json={"name": "Field"}).get_json()
    updated = api.patch(
        f"/api/v1/teams/{team['id']}", json={"name": "Field service", "member_ids": [tech.id]}
    )
    assert updated.get_json() == {"id": team["id"], "name": "Field service", "member_ids": [tech.id]}
    assert api.patch(f"/api/v1/teams/{team['id']}", json={}).get_json()["name"] == "Field service"
    assert api.patch(f"/api/v1/teams/{team['id']}", json={"member_ids": [requester.id]}).status_code == 422
    assert api.patch("/api/v1/teams/9999", json={"name": "x"}).status_code == 404
    assert api.patch("/api/v1/teams/9999", json={}).status_code == 404
    assert [t["name"] for t in api_as(tech).get("/api/v1/teams").get_json()["items"]] == ["Field service"]
    assert api_as(requester).get("/api/v1/teams").status_code == 403


def test_categories_through_the_api(api_as, session):
    admin, requester = make_admin(session), make_requester(session)
    team = make_team(session, "Hardware")
    api = api_as(admin)
    created = api.post("/api/v1/categories", json={"name": "Laptops", "default_team_id": team.id})
    assert created.status_code == 201 and created.get_json()["default_team_id"] == team.id
    category_id = created.get_json()["id"]
    retired = api.patch(
        f"/api/v1/categories/{category_id}", json={"is_active": False, "default_team_id": None}
    )
    assert retired.get_json() == {
        "id": category_id,
        "name": "Laptops",
        "default_team_id": None,
        "is_active": False,
    }
    assert api_as(requester).get("/api/v1/categories").get_json()["items"] == []
    assert len(api.get("/api/v1/categories").get_json()["items"]) == 1


def test_tokens_on_the_profile_page(client, session):
    from tests.conftest import form_token, login, page_text

    user = make_requester(session)
    login(client, user.email)
    created = client.post(
        "/account/tokens", data={**form_token(client, "/account/tokens"), "name": "my script"}
    )
    page = page_text(created)
    assert "copy it now" in page
    secret = page.split("data-sd-new-token>")[1].split("<")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in page_text(client.get("/account/tokens"))
    token_id = session.scalars(select(ApiToken.id)).one()
    other = make_requester(session)
    _, other_secret = tokens.issue_token_for(session, other, "o")
    session.commit()
    other_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == other.id)).one()
    assert (
        client.post(
            f"/account/tokens/{other_id}/revoke", data=form_token(client, "/account/tokens")
        ).status_code
        == 404
    )
    client.post(f"/account/tokens/{token_id}/revoke", data=form_token(client, "/account/tokens"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_secret}"}).status_code == 200
    bad = client.post("/account/tokens", data={**form_token(client, "/account/tokens"), "name": ""})
    assert bad.status_code == 422


def test_a_refused_member_list_names_the_field_the_client_sent(api_as, session):
    admin = make_admin(session)
    team = make_team(session, "Network")
    response = api_as(admin).patch(f"/api/v1/teams/{team.id}", json={"member_ids": [999_999]})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["member_ids"]
