"""The OpenID Connect settings (OIDC_*): off unless an issuer is named, complete or refused at start."""

from __future__ import annotations

import pytest

from supportdesk.core.config import Config, ConfigError

BASE = {
    "OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0/",
    "OIDC_CLIENT_ID": "app-id",
    "OIDC_CLIENT_SECRET": "app-secret",
}


def test_sso_is_off_without_an_issuer(tmp_path):
    assert Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path)}).oidc is None


def test_the_defaults_create_nobody_and_keep_passwords(tmp_path):
    oidc = Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path), **BASE}).oidc
    assert oidc is not None
    assert oidc.issuer == "https://login.microsoftonline.com/tenant-id/v2.0"  # no trailing slash
    assert oidc.discovery_url == f"{oidc.issuer}/.well-known/openid-configuration"
    assert (oidc.create_users, oidc.employee_passwords, oidc.provider_logout) == (False, True, True)
    assert (oidc.scopes, oidc.groups_claim, oidc.email_verified_claim) == (
        "openid email profile",
        "groups",
        "email_verified",
    )
    assert not oidc.maps_roles and oidc.team_groups == ()


def test_every_setting_comes_from_the_environment(tmp_path):
    oidc = Config.from_env(
        {
            "SUPPORTDESK_INSTANCE": str(tmp_path),
            **BASE,
            "OIDC_PROVIDER_NAME": "Contoso  Entra ID",
            "OIDC_SCOPES": "openid email profile  groups",
            "OIDC_CREATE_USERS": "yes",
            "OIDC_EMPLOYEE_PASSWORDS": "no",
            "OIDC_EMAIL_VERIFIED_CLAIM": "xms_edov",
            "OIDC_GROUPS_CLAIM": "roles",
            "OIDC_ADMIN_GROUPS": "Desk.Admin, IT-Admins",
            "OIDC_TECHNICIAN_GROUPS": "Desk.Technician",
            "OIDC_TEAM_GROUPS": "Desk.Network = Network team;\n"
            "7f1c2d3e-0000-4000-8000-000000000001=Service desk",
            "OIDC_PROVIDER_LOGOUT": "off",
            "OIDC_TIMEOUT_SECONDS": "5",
            "OIDC_ALLOWED_DOMAINS": "Example.com, example.org",
        }
    ).oidc
    assert oidc is not None
    assert (oidc.provider_name, oidc.scopes) == ("Contoso Entra ID", "openid email profile groups")
    assert (oidc.create_users, oidc.employee_passwords, oidc.provider_logout) == (True, False, False)
    assert (oidc.email_verified_claim, oidc.groups_claim) == ("xms_edov", "roles")
    assert oidc.admin_groups == {"Desk.Admin", "IT-Admins"} and oidc.technician_groups == {"Desk.Technician"}
    assert oidc.team_groups == (
        ("Desk.Network", "Network team"),
        ("7f1c2d3e-0000-4000-8000-000000000001", "Service desk"),
    )
    assert oidc.timeout_seconds == 5 and oidc.maps_roles
    assert oidc.allowed_domains == {"example.com", "example.org"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"),
        ({"OIDC_CLIENT_ID": " "}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"),
        ({"OIDC_ISSUER": "login.example.com"}, "OIDC_ISSUER must be an http(s) address"),
        ({"OIDC_SCOPES": "email profile"}, "must include openid"),
        ({"OIDC_CREATE_USERS": "maybe"}, "OIDC_CREATE_USERS must be yes or no"),
        ({"OIDC_GROUPS_CLAIM": "groups claim"}, "OIDC_GROUPS_CLAIM must be a claim name"),
        ({"OIDC_TEAM_GROUPS": "Network"}, "OIDC_TEAM_GROUPS takes pairs"),
        ({"OIDC_TEAM_GROUPS": "Net=" + "x" * 81}, "OIDC_TEAM_GROUPS takes pairs"),
        ({"OIDC_TIMEOUT_SECONDS": "\u0661\u0660"}, "OIDC_TIMEOUT_SECONDS must be a number of seconds"),
        ({"OIDC_TIMEOUT_SECONDS": "0"}, "OIDC_TIMEOUT_SECONDS must be a number of seconds"),
        ({"OIDC_ALLOWED_DOMAINS": "example.com, @example.org"}, "OIDC_ALLOWED_DOMAINS names domains"),
    ],
)
def test_bad_settings_are_named(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path), **BASE, **overrides})
