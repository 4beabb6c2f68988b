"""The OpenID Connect sign-in settings (OIDC_*), read from the environment with the rest in config.py.

SSO is on when OIDC_ISSUER is set; the client id and secret are then required. Group names (or ids:
Entra ID sends object ids) map to roles and teams on every sign-in, when a mapping is given."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_YES = ("1", "yes", "true", "on")
_NO = ("0", "no", "false", "off")
# A claim name as providers spell them: "groups", "roles", "email_verified", "xms_edov", "cognito:groups".
_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
_CLAIM = re.compile(r"[A-Za-z0-9_:.\-/]{1,100}")


class OidcSettingsError(ValueError):
    """An OIDC_* variable SupportDesk cannot run with (config.py turns it into a ConfigError)."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    # What the sign-in page's button says: "Sign in with <provider_name>".
    provider_name: str = "single sign-on"
    scopes: str = "openid email profile"
    # A first sign-in by someone with no account (and a verified email nobody uses) creates one.
    create_users: bool = False
    # Employees (requesters) may still sign in with a local password; staff always may (break-glass).
    employee_passwords: bool = True
    # The claim that vouches for the email claim: "email_verified" (standard), "xms_edov" (Entra ID).
    email_verified_claim: str = "email_verified"
    # The claim holding the user's groups or app roles, and what they map to. Roles are mapped only when
    # some role groups are named, teams only when some team groups are: otherwise admins manage them.
    groups_claim: str = "groups"
    admin_groups: frozenset[str] = field(default_factory=frozenset)
    technician_groups: frozenset[str] = field(default_factory=frozenset)
    # group -> team name, as pairs
    team_groups: tuple[tuple[str, str], ...] = ()
    # Sign-out also ends the provider's session where its discovery names an end_session_endpoint.
    provider_logout: bool = True
    timeout_seconds: int = 10
    # When set, only people whose verified email is of one of these domains (and whose `hd`, Google's
    # Workspace domain, is, when the provider sends one) may come in. Empty: whoever the provider signs in.
    allowed_domains: frozenset[str] = field(default_factory=frozenset)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def maps_roles(self) -> bool:
        return bool(self.admin_groups or self.technician_groups)


def oidc_from_env(environ: Mapping[str, str]) -> OidcSettings | None:
    issuer = (environ.get("OIDC_ISSUER") or "").strip().rstrip("/")
    if not issuer:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", issuer):
        raise OidcSettingsError(f"OIDC_ISSUER must be an http(s) address, not {issuer!r}")
    client_id = (environ.get("OIDC_CLIENT_ID") or "").strip()
    client_secret = environ.get("OIDC_CLIENT_SECRET") or ""
    if not client_id or not client_secret:
        raise OidcSettingsError("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
    scopes = " ".join((environ.get("OIDC_SCOPES") or "openid email profile").split())
    if "openid" not in scopes.split():
        raise OidcSettingsError(f"OIDC_SCOPES must include openid, not {scopes!r}")
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        provider_name=" ".join((environ.get("OIDC_PROVIDER_NAME") or "single sign-on").split())[:60],
        scopes=scopes,
        create_users=_yes_no(environ, "OIDC_CREATE_USERS", False),
        employee_passwords=_yes_no(environ, "OIDC_EMPLOYEE_PASSWORDS", True),
        email_verified_claim=_claim(environ, "OIDC_EMAIL_VERIFIED_CLAIM", "email_verified"),
        groups_claim=_claim(environ, "OIDC_GROUPS_CLAIM", "groups"),
        admin_groups=_names(environ, "OIDC_ADMIN_GROUPS"),
        technician_groups=_names(environ, "OIDC_TECHNICIAN_GROUPS"),
        team_groups=_team_groups(environ, "OIDC_TEAM_GROUPS"),
        provider_logout=_yes_no(environ, "OIDC_PROVIDER_LOGOUT", True),
        timeout_seconds=_timeout(environ, "OIDC_TIMEOUT_SECONDS", 10),
        allowed_domains=_domains(environ, "OIDC_ALLOWED_DOMAINS"),
    )


def _yes_no(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise OidcSettingsError(f"{name} must be yes or no, not {raw!r}")


def _claim(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = (environ.get(name) or default).strip()
    if not _CLAIM.fullmatch(raw):
        raise OidcSettingsError(f"{name} must be a claim name such as {default}, not {raw!r}")
    return raw


def _names(environ: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(n.strip() for n in (environ.get(name) or "").split(",") if n.strip())


def _domains(environ: Mapping[str, str], name: str) -> frozenset[str]:
    domains = frozenset(d.strip().lower() for d in (environ.get(name) or "").split(",") if d.strip())
    bad = sorted(d for d in domains if not _DOMAIN.fullmatch(d))
    if bad:
        raise OidcSettingsError(f"{name} names domains such as example.com, not {', '.join(bad)}")
    return domains


def _team_groups(environ: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    """ "IT-Desk=Service desk; Network=Network team": a group (name or id) to a team name, per pair."""
    pairs: list[tuple[str, str]] = []
    for item in re.split(r"[;\n]", environ.get(name) or ""):
        if not item.strip():
            continue
        group, sep, team = item.partition("=")
        group, team = group.strip(), " ".join(team.split())
        if not sep or not group or not team or len(team) > 80:
            raise OidcSettingsError(
                f"{name} takes pairs such as 'IT-Desk=Service desk; Net=Network', not {item!r}"
            )
        pairs.append((group, team))
    return tuple(pairs)


def _timeout(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 120:
        raise OidcSettingsError(f"{name} must be a number of seconds from 1 to 120, not {raw!r}")
    return int(raw)
