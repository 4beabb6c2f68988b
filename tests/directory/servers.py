"""A real directory for the tests: Debian's OpenLDAP `slapd`, started by the suite on loopback.

`Slapd` writes a throwaway `slapd.conf` (MDB database, the standard schemas), a private CA and a server
certificate it signed (for `localhost` only, so connecting by IP address shows host name checking),
loads the base entries with `slapadd`, and serves plain LDAP (for StartTLS) and LDAPS on free ports.
`TestDirectory` is one test's own branch of that tree (`ou=<random>,dc=example,dc=org`, with people and
groups under it), changed through the server as an administrator would change a real directory.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ldap3
from ldap3.utils.dn import escape_rdn

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
SERVICE_DN = f"cn=supportdesk,ou=services,{SUFFIX}"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def missing_tools() -> str | None:
    if not Path(SLAPD).exists() or not Path(SLAPADD).exists():
        return "slapd is not installed (make directory-server, or apt-get install slapd ldap-utils)"
    if not shutil.which("ldapwhoami"):
        return "ldap-utils is not installed (make directory-server, or apt-get install ldap-utils)"
    if not shutil.which("openssl"):
        return "openssl is not installed"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Authority:
    """A throwaway certificate authority and a server certificate it signed for `localhost`."""

    ca_cert: Path
    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path, name: str = "ca") -> Authority:
        ca_key, ca_cert = folder / f"{name}-key.pem", folder / f"{name}.pem"
        key, request = folder / f"{name}-server-key.pem", folder / f"{name}-server.csr"
        cert = folder / f"{name}-server.pem"
        extensions = folder / f"{name}-server.ext"
        extensions.write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
        for command in (
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN=SupportDesk test {name}", "-keyout", str(ca_key), "-out", str(ca_cert)],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", str(key), "-out", str(request)],
            ["openssl", "x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert)],
        ):  # fmt: skip
            subprocess.run(command, check=True, capture_output=True)
        return cls(ca_cert, cert, key)


class Slapd:
    """Debian's slapd on two free loopback ports: LDAP (StartTLS offered) and LDAPS."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ldap_port = free_port()
        self.ldaps_port = free_port()
        self.authority = Authority.create(root)
        self.admin_password = secrets.token_urlsafe(16)
        self.service_password = secrets.token_urlsafe(16)
        self.config = root / "slapd.conf"
        (root / "data").mkdir()
        includes = "".join(f"include /etc/ldap/schema/{name}.schema\n" for name in SCHEMAS)
        # `allow bind_anon_dn`: the server accepts a bind with a name and an empty password as an
        # anonymous bind (as Active Directory does), so the tests prove the desk refuses it itself.
        self.config.write_text(
            f"""# Written by tests/directory/servers.py for one test session.
{includes}pidfile {root}/slapd.pid
argsfile {root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
allow bind_anon_dn
# A directory whose admins capped searches (OpenLDAP's default cap is 500): the sync must notice.
sizelimit 40
TLSCACertificateFile {self.authority.ca_cert}
TLSCertificateFile {self.authority.cert}
TLSCertificateKeyFile {self.authority.key}
database mdb
maxsize 268435456
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {self.admin_password}
directory {root}/data
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by users read
  by * none
"""
        )
        base = root / "base.ldif"
        base.write_text(
            f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: person
objectClass: simpleSecurityObject
cn: supportdesk
sn: SupportDesk
userPassword: {self.service_password}
"""
        )
        subprocess.run([SLAPADD, "-f", str(self.config), "-l", str(base)], check=True, capture_output=True)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.ldaps_port}"

    @property
    def ldap_url(self) -> str:
        return f"ldap://localhost:{self.ldap_port}"

    def start(self) -> None:
        urls = f"ldap://127.0.0.1:{self.ldap_port}/ ldaps://127.0.0.1:{self.ldaps_port}/"
        self._process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(self.config), "-h", urls],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "slapd.stderr").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                self.admin().unbind()
                return
            except ldap3.core.exceptions.LDAPException:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"slapd did not start: {self.log_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def log_text(self) -> str:
        stderr = self.root / "slapd.stderr"
        return stderr.read_text(errors="replace") if stderr.exists() else ""

    def admin(self) -> ldap3.Connection:
        """A connection bound as the directory's administrator (over LDAPS, the CA trusted)."""
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.authority.ca_cert))
        server = ldap3.Server("localhost", port=self.ldaps_port, use_ssl=True, tls=tls, connect_timeout=5)
        return ldap3.Connection(
            server, ADMIN_DN, self.admin_password, auto_bind=ldap3.AUTO_BIND_NO_TLS, raise_exceptions=True
        )

    def branch(self) -> TestDirectory:
        directory = TestDirectory(self, f"ou=t{secrets.token_hex(6)},{SUFFIX}")
        directory.create()
        return directory


@dataclass
class TestDirectory:
    """One test's part of the directory: `ou=people` and `ou=groups` under a base of its own."""

    server: Slapd
    base: str
    _created: list[str] = field(default_factory=list)

    @property
    def people(self) -> str:
        return f"ou=people,{self.base}"

    @property
    def groups(self) -> str:
        return f"ou=groups,{self.base}"

    def group_dn(self, name: str) -> str:
        return f"cn={escape_rdn(name)},{self.groups}"

    def user_dn(self, uid: str) -> str:
        return f"uid={escape_rdn(uid)},{self.people}"

    def create(self) -> None:
        with self.server.admin() as admin:
            admin.add(self.base, "organizationalUnit", {"ou": self.base.split(",")[0][3:]})
            admin.add(self.people, "organizationalUnit", {"ou": "people"})
            admin.add(self.groups, "organizationalUnit", {"ou": "groups"})

    def add_user(
        self, uid: str, password: str, *, mail: str | None = None, name: str | None = None, **extra: str
    ) -> str:
        dn = self.user_dn(uid)
        name = name or uid.title()
        attributes: dict[str, object] = {
            "uid": uid,
            "cn": name,
            "sn": name.split()[-1],
            "mail": mail or f"{uid}@example.org",
            **extra,
        }
        if password:
            attributes["userPassword"] = password
        with self.server.admin() as admin:
            admin.add(dn, "inetOrgPerson", attributes)
        return dn

    def change_user(self, uid: str, **values: str | None) -> None:
        changes = {
            name: [(ldap3.MODIFY_REPLACE, [] if value is None else [value])] for name, value in values.items()
        }
        with self.server.admin() as admin:
            admin.modify(self.user_dn(uid), changes)

    def remove_user(self, uid: str) -> None:
        dn = self.user_dn(uid)
        with self.server.admin() as admin:
            for group in self._groups_with(admin, dn):
                self._drop_member(admin, group, dn)
            admin.delete(dn)

    def add_to_group(self, group: str, uid: str) -> str:
        group_dn, member = self.group_dn(group), self.user_dn(uid)
        with self.server.admin() as admin:
            try:
                admin.modify(group_dn, {"member": [(ldap3.MODIFY_ADD, [member])]})
            except ldap3.core.exceptions.LDAPNoSuchObjectResult:
                admin.add(group_dn, "groupOfNames", {"cn": group, "member": [member]})
        return group_dn

    def remove_from_group(self, group: str, uid: str) -> None:
        with self.server.admin() as admin:
            self._drop_member(admin, self.group_dn(group), self.user_dn(uid))

    def _groups_with(self, admin: ldap3.Connection, member: str) -> list[str]:
        query = f"(member={ldap3.utils.conv.escape_filter_chars(member)})"
        admin.search(self.groups, query, attributes=["cn"])
        return [entry.entry_dn for entry in admin.entries]

    @staticmethod
    def _drop_member(admin: ldap3.Connection, group_dn: str, member: str) -> None:
        admin.search(group_dn, "(objectClass=*)", ldap3.BASE, attributes=["member"])
        members = admin.entries[0].member.values if admin.entries else []
        if len(members) <= 1:  # groupOfNames must keep a member: the group goes with its last one
            admin.delete(group_dn)
        else:
            admin.modify(group_dn, {"member": [(ldap3.MODIFY_DELETE, [member])]})


def session_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="supportdesk-ldap-"))
