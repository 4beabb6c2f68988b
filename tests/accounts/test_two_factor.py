"""Two-factor sign-in: a user turns on TOTP from their account page (QR code and secret, confirmed with a
current code), gets ten one-time recovery codes, and from then on signs in with password and code. The
half-signed state is not a sign-in, expires, and wrong codes spend the sign-in throttle."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select, text

from supportdesk.accounts import twofactor
from supportdesk.accounts.models import User
from supportdesk.app import create_app
from supportdesk.core import clock
from tests.conftest import csrf_token, form_token, login, make_config, page_text
from tests.factories import PASSWORD, make_technician

SECRET = re.compile(r'data-secret="([A-Z2-7]{32})"')
CODES = re.compile(r"data-recovery-code>([a-z0-9]{5}-[a-z0-9]{5})<")


def code_at(secret: str, seconds: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=seconds))


def turn_on(client, email: str) -> tuple[str, list[str]]:
    """Sign in, set up two-factor, confirm it: (the secret, the recovery codes shown once)."""
    login(client, email)
    started = client.post(
        "/account/two-factor/start", data={**form_token(client, "/account/two-factor"), "password": PASSWORD}
    )
    assert started.status_code == 302, page_text(started)
    page = page_text(client.get("/account/two-factor"))
    assert "<svg" in page, "the QR code is drawn on the page"
    secret = SECRET.search(page).group(1)
    confirmed = client.post(
        "/account/two-factor/confirm",
        data={**form_token(client, "/account/two-factor"), "code": code_at(secret)},
    )
    assert confirmed.status_code == 200, page_text(confirmed)
    assert confirmed.headers["Cache-Control"] == "no-store"
    codes = CODES.findall(page_text(confirmed))
    assert len(set(codes)) == 10
    sign_out(client)
    return secret, codes


def sign_out(client) -> None:
    client.post("/logout", data=form_token(client, "/portal/"))


def password_step(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password, **form_token(client, "/login")})


def code_step(client, code: str):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})


def signed_in(client) -> bool:
    return client.get("/portal/").status_code == 200


def test_turning_it_on_takes_a_current_code_and_stores_no_secret_in_clear(client, session):
    tech = make_technician(session, email="tess@example.com")
    login(client, tech.email)
    client.post(
        "/account/two-factor/start", data={**form_token(client, "/account/two-factor"), "password": PASSWORD}
    )
    secret = SECRET.search(page_text(client.get("/account/two-factor"))).group(1)
    wrong = client.post(
        "/account/two-factor/confirm", data={**form_token(client, "/account/two-factor"), "code": "000000"}
    )
    assert wrong.status_code == 422
    assert "two-factor sign-in is on" not in page_text(client.get("/account/two-factor")).lower()
    ok = client.post(
        "/account/two-factor/confirm",
        data={**form_token(client, "/account/two-factor"), "code": code_at(secret)},
    )
    assert ok.status_code == 200
    codes = CODES.findall(page_text(ok))
    page = page_text(client.get("/account/two-factor"))
    assert "Two-factor sign-in is on" in page
    assert secret not in page and not any(code in page for code in codes), "shown once only"
    dump = " ".join(
        str(value)
        for table in ("two_factor", "two_factor_recovery_codes")
        for row in session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        for value in row
    )
    assert secret not in dump and not any(code in dump for code in codes)


def test_starting_needs_the_password(client, session):
    tech = make_technician(session)
    login(client, tech.email)
    response = client.post(
        "/account/two-factor/start", data={**form_token(client, "/account/two-factor"), "password": "wrong"}
    )
    assert response.status_code == 422
    assert SECRET.search(page_text(client.get("/account/two-factor"))) is None


def test_sign_in_asks_for_the_code_and_is_not_a_sign_in_until_then(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, _ = turn_on(client, tech.email)
    session.expire_all()
    signed_on = session.get(User, tech.id).last_login_at
    with clock.frozen_at(clock.now() + timedelta(seconds=90)):
        first = password_step(client, tech.email)
        assert first.status_code == 302 and first.headers["Location"].startswith("/login/code")
        assert not signed_in(client)
        assert code_step(client, "123456").status_code == 401
        assert not signed_in(client)
        session.expire_all()
        assert session.get(User, tech.id).last_login_at == signed_on, "a password alone is no sign-in"
        response = code_step(client, code_at(secret))
        assert response.status_code == 302
        assert signed_in(client)
        session.expire_all()
        assert session.get(User, tech.id).last_login_at == clock.now()


def test_a_code_works_once_and_a_neighbouring_step_is_accepted(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, _ = turn_on(client, tech.email)
    with clock.frozen_at(clock.now() + timedelta(seconds=120)):
        password_step(client, tech.email)
        previous_step = code_at(secret, -30)  # the phone's clock a little behind: valid_window=1
        assert code_step(client, previous_step).status_code == 302
        sign_out(client)
        password_step(client, tech.email)
        assert code_step(client, previous_step).status_code == 401, "a used code cannot be replayed"
        assert code_step(client, code_at(secret, -90)).status_code == 401, "too old"
        assert code_step(client, code_at(secret)).status_code == 302


def test_a_recovery_code_works_once(client, session):
    tech = make_technician(session, email="tess@example.com")
    _, codes = turn_on(client, tech.email)
    password_step(client, tech.email)
    assert code_step(client, codes[3].upper()).status_code == 302
    sign_out(client)
    password_step(client, tech.email)
    assert code_step(client, codes[3]).status_code == 401
    assert not signed_in(client)
    assert code_step(client, codes[4]).status_code == 302


def test_the_half_signed_state_expires(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, _ = turn_on(client, tech.email)
    password_step(client, tech.email)
    with clock.frozen_at(clock.now() + timedelta(minutes=6)):
        response = client.post("/login/code", data={"code": code_at(secret), **form_token(client, "/login")})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        assert not signed_in(client)


def test_the_code_page_without_a_password_step_sends_to_sign_in(client, session):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_half_signed_state_dies_with_a_sign_out_elsewhere(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, _ = turn_on(client, tech.email)
    password_step(client, tech.email)
    session.get(User, tech.id).session_epoch += 1  # a password change or sign-out everywhere
    session.commit()
    code_step(client, code_at(secret))
    assert not signed_in(client)


def test_wrong_codes_spend_the_sign_in_throttle(database_url, tmp_path, app, session):
    """Password and code guesses draw on one budget per account (production's 5 a minute)."""
    strict = create_app(
        make_config(
            database_url,
            tmp_path,
            login_limit_per_account="5 per minute",
            login_limit_per_address="99 per minute",
        )
    )
    key = strict.config["SUPPORTDESK"].secret_key
    tech = make_technician(session, email="tess@example.com")
    twofactor.start(session, key, tech, PASSWORD)
    secret = twofactor.pending_secret(session, key, tech)
    twofactor.confirm(session, key, tech, code_at(secret))
    session.commit()
    client = strict.test_client()
    assert password_step(client, tech.email).status_code == 302
    statuses = [code_step(client, "000000").status_code for _ in range(5)]
    assert statuses == [401] * 4 + [429]
    with clock.frozen_at(clock.now() + timedelta(seconds=30)):
        assert code_step(client, code_at(secret)).status_code == 429
    assert not signed_in(client)


def test_a_password_alone_does_not_issue_an_api_token(client, session):
    tech = make_technician(session, email="tess@example.com")
    turn_on(client, tech.email)
    response = client.post("/api/v1/tokens", json={"email": tech.email, "password": PASSWORD, "name": "x"})
    assert response.status_code == 403


def test_turning_it_off_takes_password_and_code(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, _ = turn_on(client, tech.email)
    password_step(client, tech.email)
    assert code_step(client, code_at(secret, 30)).status_code == 302  # the next step: this one is used
    with clock.frozen_at(clock.now() + timedelta(seconds=60)):
        refused = client.post(
            "/account/two-factor/disable",
            data={**form_token(client, "/account/two-factor"), "password": "wrong", "code": code_at(secret)},
        )
        assert refused.status_code == 422
        done = client.post(
            "/account/two-factor/disable",
            data={**form_token(client, "/account/two-factor"), "password": PASSWORD, "code": code_at(secret)},
        )
        assert done.status_code == 302
    sign_out(client)
    assert password_step(client, tech.email).headers["Location"] == "/"
    assert session.scalars(select(text("count(*)")).select_from(text("two_factor"))).one() == 0


def test_new_recovery_codes_replace_the_old_ones(client, session):
    tech = make_technician(session, email="tess@example.com")
    secret, old = turn_on(client, tech.email)
    password_step(client, tech.email)
    assert code_step(client, code_at(secret, 30)).status_code == 302  # the next step: this one is used
    with clock.frozen_at(clock.now() + timedelta(seconds=60)):
        response = client.post(
            "/account/two-factor/recovery-codes",
            data={**form_token(client, "/account/two-factor"), "code": code_at(secret)},
        )
    assert response.status_code == 200
    new = CODES.findall(page_text(response))
    assert len(set(new)) == 10 and not set(new) & set(old)
    sign_out(client)
    password_step(client, tech.email)
    assert code_step(client, old[0]).status_code == 401
    assert code_step(client, new[0]).status_code == 302
