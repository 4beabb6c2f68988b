"""The company directory (LDAP / Active Directory) through ldap3: find a person with the service account,
check a password by binding as the person's own entry, list everyone for the sync, read group members.

Every connection is TLS (LDAPS, or StartTLS before any bind) with the certificate and host name
checked. A typed name only ever reaches a filter through `escape_filter_chars`, and an empty password
is refused before any bind: servers take a name with no password as an anonymous bind that succeeds."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from ldap3 import BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPNoSuchObjectResult
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from supportdesk.core.directory_settings import DirectorySettings

log = structlog.get_logger("supportdesk.directory")
PAGE_SIZE = 500  # Active Directory answers at most 1,000 entries a page
MEMBER_ATTRIBUTES = ("member", "uniqueMember")


class DirectoryUnavailable(RuntimeError):
    """The directory could not be reached or refused the service account (not a wrong user password)."""


@dataclass(frozen=True)
class DirectoryPerson:
    dn: str
    entry_id: str  # entryUUID / objectGUID: the same through renames and moves
    username: str
    email: str
    full_name: str


def normal_dn(dn: str) -> str:
    """A DN compared as directories compare them: attribute names and values without case, no spaces
    around the separators."""
    try:
        return ",".join(f"{name.lower()}={value.lower()}" for name, value, _ in parse_dn(dn, strip=True))
    except Exception:  # an unparsable DN from a group's member list matches nobody
        return dn.strip().lower()


class Directory:
    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
        self.server = Server(
            settings.host,
            port=settings.port,
            use_ssl=settings.use_ssl,
            tls=tls,
            get_info=NONE,
            connect_timeout=settings.timeout_seconds,
        )

    def _connection(self, user: str, password: str) -> Connection:
        return Connection(
            self.server,
            user=user,
            password=password,
            authentication=SIMPLE,
            receive_timeout=self.settings.timeout_seconds,
            raise_exceptions=False,
            read_only=True,
            auto_referrals=False,
        )

    def _open(self, connection: Connection) -> None:
        connection.open()
        if self.settings.start_tls and not connection.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused by {self.settings.url}")

    @contextmanager
    def _service(self) -> Iterator[Connection]:
        """A connection bound as the service account; any failure is the directory's, not the user's."""
        connection = self._connection(self.settings.bind_dn, self.settings.bind_password)
        try:
            self._open(connection)
            if not connection.bind():
                raise DirectoryUnavailable(
                    f"the service account LDAP_BIND_DN was refused: {connection.result.get('description')}"
                )
            yield connection
        except LDAPException as error:
            raise DirectoryUnavailable(f"{self.settings.url}: {error}") from error
        finally:
            _close(connection)

    def _person_filter(self, extra: str = "") -> str:
        return f"(&{self.settings.user_filter}{extra})"

    def _attributes(self) -> list[str]:
        s = self.settings
        return [s.user_attribute, s.email_attribute, s.name_attribute, s.id_attribute]

    def find_person(self, login: str) -> DirectoryPerson | None:
        """The one person whose user name or email is `login` (as typed), within the user filter."""
        login = login.strip()
        if not login:
            return None
        value = escape_filter_chars(login)
        s = self.settings
        query = self._person_filter(f"(|({s.user_attribute}={value})({s.email_attribute}={value}))")
        with self._service() as connection:
            entries = list(self._search(connection, s.user_base, query, SUBTREE, self._attributes(), 2))
        people = [p for p in (self._person(entry) for entry in entries) if p is not None]
        return people[0] if len(people) == 1 else None  # two matches: nobody can tell which was meant

    def password_matches(self, dn: str, password: str) -> bool:
        """Whether `password` is the password of the entry `dn`: a bind as that entry."""
        if not password or not dn:  # an unauthenticated bind "succeeds" on many servers
            return False
        connection = self._connection(dn, password)
        try:
            self._open(connection)
            return bool(connection.bind()) and connection.result.get("result") == 0
        except LDAPException as error:
            raise DirectoryUnavailable(f"{self.settings.url}: {error}") from error
        finally:
            _close(connection)

    def groups_of(self, dn: str) -> frozenset[str]:
        """The mapped groups (their DNs as configured) that have `dn` as a member."""
        value = escape_filter_chars(dn)
        query = "(|" + "".join(f"({attribute}={value})" for attribute in MEMBER_ATTRIBUTES) + ")"
        found = set()
        with self._service() as connection:
            for group in self.mapped_groups():
                if any(True for _ in self._search(connection, group, query, BASE, ["1.1"], 1)):
                    found.add(group)
        return frozenset(found)

    def everyone(self) -> list[DirectoryPerson]:
        """Every person under the user base the filter lets in, read in pages."""
        with self._service() as connection:
            entries = self._search(
                connection, self.settings.user_base, self._person_filter(), SUBTREE, self._attributes()
            )
            return [p for p in (self._person(entry) for entry in entries) if p is not None]

    def members(self) -> dict[str, frozenset[str]]:
        """Each mapped group's members (normal DNs); a group that does not exist has none."""
        groups: dict[str, frozenset[str]] = {}
        with self._service() as connection:
            for group in self.mapped_groups():
                members: set[str] = set()
                entries = self._search(connection, group, "(objectClass=*)", BASE, list(MEMBER_ATTRIBUTES))
                for entry in entries:
                    for attribute in MEMBER_ATTRIBUTES:
                        members.update(normal_dn(_text(v)) for v in _values(entry, attribute))
                groups[group] = frozenset(members)
        return groups

    def mapped_groups(self) -> list[str]:
        s = self.settings
        return list(dict.fromkeys(dn for _, dn in (*s.role_groups, *s.team_groups)))

    def _search(
        self,
        connection: Connection,
        base: str,
        query: str,
        scope: Any,
        attributes: list[str],
        limit: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Entries found (raw attribute values), paged; a base that does not exist holds nothing."""
        try:
            for entry in connection.extend.standard.paged_search(
                base,
                query,
                search_scope=scope,
                attributes=attributes,
                paged_size=PAGE_SIZE,
                size_limit=limit,
                generator=True,
            ):
                if entry.get("type") == "searchResEntry":
                    yield entry
        except LDAPNoSuchObjectResult:
            return
        code = (connection.result or {}).get("result")
        if code == 4 and not limit:  # the directory's own cap, not ours: the list is cut short
            raise DirectoryUnavailable(
                f"the directory stopped at its size limit under {base!r}: let the service account read "
                "every entry (OpenLDAP: a `limits` rule with size=unlimited; Active Directory pages)"
            )
        if code not in (0, 4, 32, None):  # success, the limit we asked for, no such object
            raise DirectoryUnavailable(
                f"search under {base!r} failed: {connection.result.get('description')}"
            )

    def _person(self, entry: dict[str, Any]) -> DirectoryPerson | None:
        s = self.settings
        username = _first_text(entry, s.user_attribute)
        email = _first_text(entry, s.email_attribute)
        raw_id = _values(entry, s.id_attribute)
        if not username or not email or not raw_id:
            log.warning("directory entry skipped: no user name, email or id", dn=entry.get("dn"))
            return None
        full_name = _first_text(entry, s.name_attribute) or username
        return DirectoryPerson(entry["dn"], _identifier(raw_id[0]), username, email, full_name)


def _close(connection: Connection) -> None:
    """Unbind; a connection a failed handshake already broke has nothing left to close."""
    try:
        connection.unbind()
    except LDAPException:
        log.debug("directory connection already closed")


def _values(entry: dict[str, Any], attribute: str) -> list[bytes]:
    raw = entry.get("raw_attributes") or {}
    for name, values in raw.items():
        if name.lower() == attribute.lower():
            return list(values)
    return []


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _first_text(entry: dict[str, Any], attribute: str) -> str:
    values = _values(entry, attribute)
    return _text(values[0]).strip() if values else ""


def _identifier(raw: bytes) -> str:
    """entryUUID is text; Active Directory's objectGUID is 16 bytes (little-endian UUID fields)."""
    if len(raw) == 16:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return str(uuid.UUID(bytes_le=raw))
        if not text.isprintable():
            return str(uuid.UUID(bytes_le=raw))
    return _text(raw).strip().lower()
