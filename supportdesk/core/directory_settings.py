"""The company directory's settings (LDAP or Active Directory), read from the environment with the
rest of the settings (`core/config.py`). No LDAP_URL: no directory, local accounts only.

Passwords only ever cross to the directory inside TLS: `ldaps://` (TLS from the start) or `ldap://`
upgraded with StartTLS before any bind; the server's certificate is checked against LDAP_CA_FILE (a
private CA) or the system's store, and against the host name of the URL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from supportdesk.core.config import ConfigError


@dataclass(frozen=True)
class DirectorySettings:
    url: str
    host: str
    port: int
    use_ssl: bool  # ldaps://
    start_tls: bool  # ldap:// upgraded before the bind
    ca_file: str | None
    bind_dn: str
    bind_password: str
    user_base: str
    # The attribute people type as their user name: uid (OpenLDAP), sAMAccountName (Active Directory).
    user_attribute: str = "uid"
    # Who counts as a person of the desk; anyone it leaves out (disabled accounts) is deactivated.
    user_filter: str = "(objectClass=inetOrgPerson)"
    email_attribute: str = "mail"
    name_attribute: str = "cn"
    # What stays the same through renames and moves: entryUUID (OpenLDAP), objectGUID (AD).
    id_attribute: str = "entryUUID"
    # ("admin" | "technician", group DN), strongest first; members of none are requesters.
    role_groups: tuple[tuple[str, str], ...] = ()
    # (team name, group DN): the members of the group who are staff are the team's directory members.
    team_groups: tuple[tuple[str, str], ...] = ()
    timeout_seconds: int = 10

    def __repr__(self) -> str:  # the bind password stays out of logs and tracebacks
        return f"DirectorySettings(url={self.url!r}, user_base={self.user_base!r})"


_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")


def directory_settings(environ: Mapping[str, str]) -> DirectorySettings | None:
    """The directory's settings from the environment, or None when LDAP_URL is not set."""
    url = (environ.get("LDAP_URL") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("ldaps", "ldap") or not parts.hostname:
        raise ConfigError(
            f"LDAP_URL must be ldaps://host[:port] or ldap://host[:port] (StartTLS), not {url!r}"
        )
    use_ssl = parts.scheme == "ldaps"
    start_tls = not use_ssl and environ.get("LDAP_START_TLS", "1").strip().lower() not in ("0", "false", "no")
    if not use_ssl and not start_tls:
        raise ConfigError(
            "LDAP_START_TLS=0 with ldap:// would send passwords in clear: use ldaps:// or StartTLS"
        )
    try:
        port = parts.port or (636 if use_ssl else 389)
    except ValueError:
        raise ConfigError(f"LDAP_URL has no valid port: {url!r}") from None
    ca_file = (environ.get("LDAP_CA_FILE") or "").strip() or None
    if ca_file is not None and not Path(ca_file).is_file():
        raise ConfigError(f"LDAP_CA_FILE {ca_file!r} is not a readable file")
    return DirectorySettings(
        url=url,
        host=parts.hostname,
        port=port,
        use_ssl=use_ssl,
        start_tls=start_tls,
        ca_file=ca_file,
        bind_dn=_dn(environ, "LDAP_BIND_DN"),
        bind_password=_required(environ, "LDAP_BIND_PASSWORD"),
        user_base=_dn(environ, "LDAP_USER_BASE"),
        user_attribute=_attribute(environ, "LDAP_USER_ATTRIBUTE", "uid"),
        user_filter=_filter(environ, "LDAP_USER_FILTER", "(objectClass=inetOrgPerson)"),
        email_attribute=_attribute(environ, "LDAP_EMAIL_ATTRIBUTE", "mail"),
        name_attribute=_attribute(environ, "LDAP_NAME_ATTRIBUTE", "cn"),
        id_attribute=_attribute(environ, "LDAP_ID_ATTRIBUTE", "entryUUID"),
        role_groups=tuple(
            [("admin", dn) for dn in _dn_list(environ, "LDAP_ADMIN_GROUPS")]
            + [("technician", dn) for dn in _dn_list(environ, "LDAP_TECHNICIAN_GROUPS")]
        ),
        team_groups=_team_groups(environ, "LDAP_TEAM_GROUPS"),
        timeout_seconds=_seconds(environ, "LDAP_TIMEOUT_SECONDS", 10),
    )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = (environ.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is required with LDAP_URL")
    return value


def _is_dn(value: str) -> bool:
    try:
        return bool(parse_dn(value))
    except (LDAPInvalidDnError, IndexError, ValueError):
        return False


def _dn(environ: Mapping[str, str], name: str) -> str:
    value = _required(environ, name)
    if not _is_dn(value):
        raise ConfigError(f"{name} must be a distinguished name such as dc=example,dc=org")
    return value


def _dn_list(environ: Mapping[str, str], name: str) -> list[str]:
    values = [v.strip() for v in (environ.get(name) or "").split(";") if v.strip()]
    for value in values:
        if not _is_dn(value):
            raise ConfigError(f"{name}: {value!r} is not a distinguished name")
    return values


def _team_groups(environ: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    """`Team name=group DN;Other team=group DN`: the team's name ends at the first "="."""
    pairs = []
    for item in (environ.get(name) or "").split(";"):
        if not item.strip():
            continue
        team, _, dn = item.partition("=")
        team, dn = " ".join(team.split()), dn.strip()
        if not team or len(team) > 80 or not _is_dn(dn):
            raise ConfigError(f"{name} lists Team name=group DN pairs separated by ';', not {item.strip()!r}")
        pairs.append((team, dn))
    return tuple(pairs)


def _attribute(environ: Mapping[str, str], name: str, default: str) -> str:
    value = (environ.get(name) or default).strip()
    if not _ATTRIBUTE.fullmatch(value):
        raise ConfigError(f"{name} must be an attribute name such as {default}, not {value!r}")
    return value


def _filter(environ: Mapping[str, str], name: str, default: str) -> str:
    value = (environ.get(name) or default).strip()
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if not (value.startswith("(") and value.endswith(")")) or depth != 0:
        raise ConfigError(f"{name} must be one LDAP filter in parentheses, not {value!r}")
    return value


def _seconds(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 300:
        raise ConfigError(f"{name} must be a whole number of seconds from 1 to 300")
    return int(raw)
