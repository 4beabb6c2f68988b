"""Signing in: throttled guessing, answers that do not reveal accounts, sessions that end."""

from __future__ import annotations

import time

import pytest

from supportdesk.accounts.passwords import verify_password
from supportdesk.app import create_app
from tests.conftest import csrf_token, login, make_config, page_text
from tests.factories import PASSWORD, make_requester


@pytest.fixture
def strict_app(database_url, tmp_path, app):
    """A second app on the same database with the production throttling defaults."""
    config = make_config(
        database_url, tmp_path, login_limit_per_account="5 per minute", login_limit_per_address="8 per minute"
    )
    return create_app(config)


def attempt(client, email, password="wrong"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_guessing_one_accounts_password_is_throttled(strict_app, session):
    user = make_requester(session)
    client = strict_app.test_client()
    statuses = [attempt(client, user.email).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    blocked = attempt(client, user.email, PASSWORD)
    assert blocked.status_code == 429 and "Too Many Requests" in page_text(blocked)
    assert "Retry-After" in blocked.headers


def test_guessing_many_accounts_from_one_address_is_throttled(strict_app, session):
    client = strict_app.test_client()
    statuses = [attempt(client, f"user{i}@example.com").status_code for i in range(9)]
    assert statuses[:8] == [401] * 8 and statuses[8] == 429


def test_token_issuing_is_throttled_too(strict_app, session):
    user = make_requester(session)
    client = strict_app.test_client()
    body = {"email": user.email, "password": "wrong", "name": "x"}
    statuses = [client.post("/api/v1/tokens", json=body).status_code for _ in range(6)]
    assert statuses == [403] * 5 + [429]
    assert client.post("/api/v1/tokens", json=body).mimetype == "application/problem+json"


def test_the_sign_in_page_and_the_token_endpoint_share_one_budget_per_account(strict_app, session):
    """Five guesses a minute per account across every way in, not five on each."""
    user = make_requester(session)
    page, api = strict_app.test_client(), strict_app.test_client()
    body = {"email": user.email, "password": "wrong", "name": "x"}
    assert [attempt(page, user.email).status_code for _ in range(3)] == [401] * 3
    assert [api.post("/api/v1/tokens", json=body).status_code for _ in range(3)] == [403, 403, 429]
    assert attempt(page, user.email).status_code == 429


def test_the_sign_in_page_and_the_token_endpoint_share_one_budget_per_address(strict_app, session):
    client = strict_app.test_client()
    statuses = [attempt(client, f"page{i}@example.com").status_code for i in range(4)]
    body = {"password": "wrong", "name": "x"}
    statuses += [
        client.post("/api/v1/tokens", json={**body, "email": f"api{i}@example.com"}).status_code
        for i in range(5)
    ]
    assert statuses == [401] * 4 + [403] * 4 + [429]


def test_guessing_the_current_password_on_the_change_form_is_throttled(strict_app, session):
    """A session holder (a borrowed laptop) cannot guess the current password freely: the change form
    spends the account's sign-in budget."""
    user = make_requester(session)
    client = strict_app.test_client()
    attempt(client, user.email, PASSWORD)  # one of the account's five
    token = csrf_token(client, "/account/password")
    guess = {"current_password": "wrong", "new_password": "new password 1", "confirm": "new password 1"}
    statuses = [
        client.post("/account/password", data={**guess, "csrf_token": token}).status_code for _ in range(5)
    ]
    assert statuses == [422] * 4 + [429]
    assert attempt(strict_app.test_client(), user.email, PASSWORD).status_code == 429


def test_a_new_tokens_secret_is_never_cached(client, session):
    user = make_requester(session)
    login(client, user.email)
    token = csrf_token(client, "/account/tokens")
    page = client.post("/account/tokens", data={"name": "laptop", "csrf_token": token})
    assert page.status_code == 200 and "sd_" in page_text(page)
    assert "no-store" in page.headers["Cache-Control"]
    issued = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD, "name": "ci"})
    assert issued.status_code == 201 and "no-store" in issued.headers["Cache-Control"]


def test_unknown_and_known_emails_cost_the_same_and_read_the_same(client, session):
    user = make_requester(session)
    timings = {}
    for email in (user.email, "nobody@example.com"):
        start = time.perf_counter()
        response = attempt(client, email)
        timings[email] = time.perf_counter() - start
        assert response.status_code == 401
        assert "That email and password do not match an active account." in page_text(response)
    # Both paths run one argon2 verification; an unknown email must not answer measurably faster.
    assert timings["nobody@example.com"] > timings[user.email] * 0.5
    assert not verify_password(None, PASSWORD)


def test_the_session_is_replaced_at_sign_in(client, session):
    user = make_requester(session)
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    login(client, user.email)
    with client.session_transaction() as after:
        assert "planted" not in after and after["_user_id"] == f"{user.id}.0"


def test_hsts_only_in_production(tmp_path, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    production = create_app(
        make_config(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, env="production", session_cookie_secure=True)
    )
    headers = production.test_client().get("/healthz").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_copied_session_cookie_dies_at_sign_out(app, session):
    user = make_requester(session)
    browser, thief = app.test_client(), app.test_client()
    login(browser, user.email)
    cookie = browser.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/portal/").status_code == 200
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/portal/")})
    assert thief.get("/portal/").status_code == 302


def test_changing_the_password_ends_other_sessions_and_revokes_tokens(app, api_as, session):
    user = make_requester(session)
    api = api_as(user)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user.email)
    login(elsewhere, user.email)
    token = csrf_token(here, "/account/password")
    wrong = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "nope",
            "new_password": "brand new pass",
            "confirm": "brand new pass",
        },
    )
    assert wrong.status_code == 422 and "is not your current password" in page_text(wrong)
    mismatch = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "brand new pass",
            "confirm": "other",
        },
    )
    assert mismatch.status_code == 422
    done = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "brand new pass",
            "confirm": "brand new pass",
        },
    )
    assert done.status_code == 302
    assert here.get("/portal/").status_code == 200
    assert elsewhere.get("/portal/").status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    fresh = app.test_client()
    login(fresh, user.email, "brand new pass")


def test_deactivation_ends_sessions_even_after_reactivation(app, session):
    from supportdesk.accounts import service as accounts
    from tests.factories import make_admin

    user, admin = make_requester(session), make_admin(session)
    browser = app.test_client()
    login(browser, user.email)
    accounts.update_user(session, admin, user.id, is_active=False)
    session.commit()
    accounts.update_user(session, admin, user.id, is_active=True)
    session.commit()
    assert browser.get("/portal/").status_code == 302


def test_behind_nginx_the_limits_key_on_the_real_client_address(database_url, tmp_path, app, session):
    """With TRUSTED_PROXIES=1 the address nginx saw counts, so one guesser behind nginx does not lock
    out everyone else (without it every request would come from 127.0.0.1)."""
    proxied = create_app(
        make_config(database_url, tmp_path, login_limit_per_address="3 per minute", trusted_proxies=1)
    )
    guesser = proxied.test_client()
    guesser.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    statuses = [attempt(guesser, f"user{i}@example.com").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    colleague = proxied.test_client()
    colleague.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.8"
    assert attempt(colleague, "someone@example.com").status_code == 401
