"""REQUIRE_TWO_FACTOR: staff in the named roles without a second factor are sent to set one up right
after signing in, and can use nothing else until it is on."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from supportdesk.app import create_app
from supportdesk.core import clock
from supportdesk.core.config import Config, ConfigError
from tests.accounts.test_two_factor import SECRET
from tests.conftest import form_token, login, make_config
from tests.factories import PASSWORD, make_admin, make_technician


@pytest.fixture
def strict_app(database_url, tmp_path, app):
    return create_app(make_config(database_url, tmp_path, require_two_factor=("admin",)))


def test_an_admin_without_it_is_sent_to_set_it_up_and_can_do_nothing_else(strict_app, session):
    admin = make_admin(session)
    client = strict_app.test_client()
    login(client, admin.email)
    for path in ("/", "/admin/users", "/desk/", "/portal/", "/account/tokens"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    assert client.get("/notifications/badge", headers={"HX-Request": "true"}).status_code == 204
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "requires two-factor sign-in" in page
    client.post(
        "/account/two-factor/start", data={**form_token(client, "/account/two-factor"), "password": PASSWORD}
    )
    secret = SECRET.search(client.get("/account/two-factor").get_data(as_text=True)).group(1)
    code = pyotp.TOTP(secret).at(clock.now())
    client.post(
        "/account/two-factor/confirm", data={**form_token(client, "/account/two-factor"), "code": code}
    )
    assert client.get("/admin/users").status_code == 200


def test_roles_not_named_are_not_held(strict_app, session):
    tech = make_technician(session)
    client = strict_app.test_client()
    login(client, tech.email)
    assert client.get("/desk/").status_code == 200


def test_it_cannot_be_turned_off_while_required(strict_app, session):
    admin = make_admin(session)
    client = strict_app.test_client()
    login(client, admin.email)
    client.post(
        "/account/two-factor/start", data={**form_token(client, "/account/two-factor"), "password": PASSWORD}
    )
    secret = SECRET.search(client.get("/account/two-factor").get_data(as_text=True)).group(1)
    totp = pyotp.TOTP(secret)
    client.post(
        "/account/two-factor/confirm", data={**form_token(client, "/account/two-factor"), "code": totp.now()}
    )
    with clock.frozen_at(clock.now() + timedelta(seconds=30)):
        refused = client.post(
            "/account/two-factor/disable",
            data={
                **form_token(client, "/account/two-factor"),
                "password": PASSWORD,
                "code": totp.at(clock.now()),
            },
        )
    assert refused.status_code == 422
    assert client.get("/admin/users").status_code == 200


def test_the_setting_names_roles():
    base = {"SUPPORTDESK_ENV": "test", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"}
    assert Config.from_env({**base, "REQUIRE_TWO_FACTOR": "admin, technician"}).require_two_factor == (
        "admin",
        "technician",
    )
    assert Config.from_env(base).require_two_factor == ()
    with pytest.raises(ConfigError, match="REQUIRE_TWO_FACTOR"):
        Config.from_env({**base, "REQUIRE_TWO_FACTOR": "admins"})
