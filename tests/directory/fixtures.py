"""Directory fixtures (a plugin of the root conftest, so the browser tests can use them too): one slapd
per test session, a branch of the tree of its own for each test, and the app pointed at that branch as
production is pointed at its directory (service account, CA file, group mappings). Skipped with the
reason when slapd is missing; under CI=true that is a failure."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask

from supportdesk.core.directory_settings import DirectorySettings, directory_settings
from tests.directory.servers import SERVICE_DN, Slapd, TestDirectory, missing_tools, session_folder


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    reason = missing_tools()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"directory tests cannot run under CI=true: {reason}")
        pytest.skip(reason)
    root = session_folder()
    server = Slapd(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def ldap_tree(slapd: Slapd) -> TestDirectory:
    """An empty people and groups branch of the test's own."""
    return slapd.branch()


def settings_for(tree: TestDirectory, **environ: str) -> DirectorySettings:
    """The settings an operator writes for this directory (LDAPS, the private CA trusted)."""
    server = tree.server
    settings = directory_settings(
        {
            "LDAP_URL": server.ldaps_url,
            "LDAP_CA_FILE": str(server.authority.ca_cert),
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": server.service_password,
            "LDAP_USER_BASE": tree.people,
            "LDAP_USER_ATTRIBUTE": "uid",
            "LDAP_USER_FILTER": "(objectClass=inetOrgPerson)",
            "LDAP_ADMIN_GROUPS": tree.group_dn("desk-admins"),
            "LDAP_TECHNICIAN_GROUPS": tree.group_dn("desk-technicians"),
            "LDAP_TEAM_GROUPS": f"Network={tree.group_dn('network')};Hardware={tree.group_dn('hardware')}",
            "LDAP_TIMEOUT_SECONDS": "5",
            **environ,
        }
    )
    assert settings is not None
    return settings


@pytest.fixture
def directory_app(clean_app: Flask, ldap_tree: TestDirectory) -> Iterator[Flask]:
    """The app signing people in against the test's directory."""
    config = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(config, directory=settings_for(ldap_tree))
    yield clean_app
    clean_app.config["SUPPORTDESK"] = config
