"""An admin turns off the second factor of someone who lost their phone and their recovery codes."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from supportdesk.accounts import twofactor
from supportdesk.accounts.models import TwoFactor
from supportdesk.core import clock
from tests.conftest import form_token, login
from tests.factories import PASSWORD, make_admin, make_technician


def with_two_factor(app, session, user) -> None:
    key = app.config["SUPPORTDESK"].secret_key
    twofactor.start(session, key, user, PASSWORD)
    twofactor.confirm(
        session, key, user, pyotp.TOTP(twofactor.pending_secret(session, key, user)).at(clock.now())
    )
    session.commit()


def test_an_admin_resets_someones_two_factor_and_their_sessions_end(clean_app, client, session):
    admin = make_admin(session)
    tech = make_technician(session, email="tess@example.com")
    with_two_factor(clean_app, session, tech)
    other = clean_app.test_client()
    login(other, tech.email)  # half signed in: the code page
    assert other.get("/login/code").status_code == 200
    login(client, admin.email)
    response = client.post(
        f"/admin/users/{tech.id}/two-factor/reset",
        data=form_token(client, "/admin/users"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Two-factor sign-in is off for" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TwoFactor)) == 0
    fresh = clean_app.test_client()
    signed = fresh.post(
        "/login", data={"email": tech.email, "password": PASSWORD, **form_token(fresh, "/login")}
    )
    assert signed.headers["Location"] == "/", "the password alone signs in again"


def test_an_admin_cannot_reset_their_own_nor_a_user_without_it(clean_app, client, session):
    admin = make_admin(session)
    tech = make_technician(session)
    with_two_factor(clean_app, session, admin)
    login(client, admin.email)
    assert client.get("/login/code").status_code == 200  # the password step is done
    key = clean_app.config["SUPPORTDESK"].secret_key
    secret = twofactor._decrypt(key, session.get(TwoFactor, admin.id).secret_encrypted)
    with clock.frozen_at(clock.now() + timedelta(seconds=30)):
        code = pyotp.TOTP(secret).at(clock.now())
        client.post("/login/code", data={"code": code, **form_token(client, "/login/code")})
    for user in (admin, tech):
        response = client.post(
            f"/admin/users/{user.id}/two-factor/reset", data=form_token(client, "/admin/users")
        )
        assert response.status_code == 422, user
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TwoFactor)) == 1
