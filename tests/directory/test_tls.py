"""The directory is reached over LDAPS or StartTLS only, its certificate checked against the CA file
(or the system's) and the host name; settings that would send passwords in clear are refused."""

from __future__ import annotations

import pytest

from supportdesk.accounts import directory_accounts
from supportdesk.accounts.directory import Directory, DirectoryUnavailable
from supportdesk.core.config import ConfigError
from supportdesk.core.directory_settings import directory_settings
from tests.directory.fixtures import settings_for
from tests.directory.servers import Authority


def test_ldaps_and_starttls_both_sign_people_in(ldap_tree, session):
    dn = ldap_tree.add_user("dave", "Dave-Password-1")
    for url in (ldap_tree.server.ldaps_url, ldap_tree.server.ldap_url):
        settings = settings_for(ldap_tree, LDAP_URL=url)
        assert settings.start_tls is url.startswith("ldap://")
        directory = Directory(settings)
        person = directory.find_person("dave")
        assert person is not None and person.dn.lower() == dn.lower()
        assert directory.password_matches(person.dn, "Dave-Password-1")
        assert not directory.password_matches(person.dn, "Dave-Password-2")


@pytest.mark.parametrize("url_kind", ["ldaps", "ldap"])
def test_a_certificate_from_another_authority_is_refused(ldap_tree, session, tmp_path, url_kind):
    ldap_tree.add_user("dave", "Dave-Password-1")
    stranger = Authority.create(tmp_path, "stranger")
    url = ldap_tree.server.ldaps_url if url_kind == "ldaps" else ldap_tree.server.ldap_url
    settings = settings_for(ldap_tree, LDAP_URL=url, LDAP_CA_FILE=str(stranger.ca_cert))
    with pytest.raises(DirectoryUnavailable):
        Directory(settings).find_person("dave")
    with pytest.raises(DirectoryUnavailable):
        directory_accounts.sign_in(session, settings, "dave", "Dave-Password-1")


def test_without_a_ca_file_the_system_store_does_not_trust_a_private_ca(ldap_tree):
    ldap_tree.add_user("dave", "Dave-Password-1")
    settings = settings_for(ldap_tree, LDAP_CA_FILE="")
    assert settings.ca_file is None
    with pytest.raises(DirectoryUnavailable):
        Directory(settings).find_person("dave")


def test_a_certificate_for_another_host_name_is_refused(ldap_tree):
    ldap_tree.add_user("dave", "Dave-Password-1")
    # The certificate names localhost only: the same server by its address is not the host it names.
    for url in (
        f"ldaps://127.0.0.1:{ldap_tree.server.ldaps_port}",
        f"ldap://127.0.0.1:{ldap_tree.server.ldap_port}",
    ):
        with pytest.raises(DirectoryUnavailable):
            Directory(settings_for(ldap_tree, LDAP_URL=url)).find_person("dave")


BASE = {
    "LDAP_URL": "ldaps://dc1.example.com",
    "LDAP_BIND_DN": "CN=svc-desk,OU=Service,DC=example,DC=com",
    "LDAP_BIND_PASSWORD": "secret",
    "LDAP_USER_BASE": "OU=Staff,DC=example,DC=com",
}


def test_no_url_means_no_directory():
    assert directory_settings({}) is None
    assert directory_settings({"LDAP_URL": ""}) is None


def test_settings_with_their_defaults_and_mappings():
    settings = directory_settings(
        {
            **BASE,
            "LDAP_USER_ATTRIBUTE": "sAMAccountName",
            "LDAP_ADMIN_GROUPS": "CN=Desk Admins,OU=Groups,DC=example,DC=com",
            "LDAP_TECHNICIAN_GROUPS": "CN=IT,OU=Groups,DC=example,DC=com ; CN=Helpdesk,OU=Groups,DC=example,DC=com",  # noqa: E501
            "LDAP_TEAM_GROUPS": "Network=CN=Net,OU=Groups,DC=example,DC=com;Field Service=CN=FS,DC=example,DC=com",  # noqa: E501
        }
    )
    assert settings is not None
    assert (settings.host, settings.port, settings.use_ssl, settings.start_tls) == (
        "dc1.example.com",
        636,
        True,
        False,
    )
    assert settings.user_attribute == "sAMAccountName"
    assert settings.role_groups == (
        ("admin", "CN=Desk Admins,OU=Groups,DC=example,DC=com"),
        ("technician", "CN=IT,OU=Groups,DC=example,DC=com"),
        ("technician", "CN=Helpdesk,OU=Groups,DC=example,DC=com"),
    )
    assert settings.team_groups == (
        ("Network", "CN=Net,OU=Groups,DC=example,DC=com"),
        ("Field Service", "CN=FS,DC=example,DC=com"),
    )
    plain = directory_settings({**BASE, "LDAP_URL": "ldap://dc1.example.com"})
    assert plain is not None
    assert (plain.port, plain.use_ssl, plain.start_tls) == (389, False, True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"LDAP_URL": "ldap://dc1.example.com", "LDAP_START_TLS": "0"}, "in clear"),
        ({"LDAP_URL": "http://dc1.example.com"}, "ldaps://"),
        ({"LDAP_URL": "ldaps://"}, "ldaps://"),
        ({"LDAP_BIND_DN": ""}, "LDAP_BIND_DN"),
        ({"LDAP_BIND_PASSWORD": ""}, "LDAP_BIND_PASSWORD"),
        ({"LDAP_USER_BASE": ""}, "LDAP_USER_BASE"),
        ({"LDAP_USER_FILTER": "objectClass=person"}, "LDAP_USER_FILTER"),
        ({"LDAP_USER_FILTER": "(&(objectClass=person)"}, "LDAP_USER_FILTER"),
        ({"LDAP_USER_ATTRIBUTE": "uid)(x"}, "LDAP_USER_ATTRIBUTE"),
        ({"LDAP_TEAM_GROUPS": "cn=net,dc=example,dc=com"}, "LDAP_TEAM_GROUPS"),
        ({"LDAP_TEAM_GROUPS": "Network="}, "LDAP_TEAM_GROUPS"),
        ({"LDAP_ADMIN_GROUPS": "not a dn"}, "LDAP_ADMIN_GROUPS"),
        ({"LDAP_CA_FILE": "/nonexistent/ca.pem"}, "LDAP_CA_FILE"),
    ],
)
def test_settings_that_cannot_work_or_would_leak_are_refused_at_start(changes, message):
    with pytest.raises(ConfigError, match=message):
        directory_settings({**BASE, **changes})
