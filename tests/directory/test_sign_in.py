"""Signing in with the company directory (a real slapd): a bind as the person's own entry, found first
with the service account; no injection through the typed name; local accounts unchanged."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest
from sqlalchemy import select

from supportdesk.accounts import directory_accounts
from supportdesk.accounts.directory import Directory, DirectoryUnavailable
from supportdesk.accounts.models import Role, User
from supportdesk.accounts.passwords import hash_password
from tests.conftest import csrf_token, page_text
from tests.directory.fixtures import settings_for
from tests.factories import PASSWORD, make_admin, make_requester

ALICE_PASSWORD = "Tulip-Orbit-42"


def sign_in(client, login: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": login, "password": password, "csrf_token": token})


def signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    response = client.get("/portal/")
    return response.get_data(as_text=True) if response.status_code == 200 else None


def users(session) -> list[User]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(User).order_by(User.id)))


@pytest.fixture
def alice(ldap_tree):  # type: ignore[no-untyped-def]
    return ldap_tree.add_user("alice", ALICE_PASSWORD, mail="Alice.Liddell@Example.org", name="Alice Liddell")


def test_a_directory_user_signs_in_with_their_user_name_and_gets_an_account(
    directory_app, client, session, alice
):
    response = sign_in(client, "alice", ALICE_PASSWORD)
    assert response.status_code == 302
    page = signed_in_as(client)
    assert page is not None and "Alice Liddell" in page
    [user] = users(session)
    assert (user.email, user.full_name, user.role, user.is_active) == (
        "alice.liddell@example.org",
        "Alice Liddell",
        Role.REQUESTER,
        True,
    )
    assert directory_accounts.is_directory_account(session, user)
    assert user.last_login_at is not None


def test_a_directory_user_signs_in_with_their_email_too(directory_app, client, session, alice):
    assert sign_in(client, "alice.liddell@example.org", ALICE_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    assert signed_in_as(client) is None
    assert sign_in(client, "ALICE", ALICE_PASSWORD).status_code == 302  # names match as the directory does
    assert signed_in_as(client) is not None
    assert len(users(session)) == 1


def test_the_login_field_asks_for_a_user_name_when_a_directory_is_connected(directory_app, client):
    page = client.get("/login").get_data(as_text=True)
    assert "Email or user name" in page
    assert 'type="email"' not in page


def test_a_wrong_password_an_unknown_user_and_a_missing_password_are_refused(
    directory_app, client, session, alice
):
    for login, password in (("alice", "tulip-orbit-42"), ("alice", ALICE_PASSWORD + " "), ("nobody", "x")):
        response = sign_in(client, login, password)
        assert response.status_code == 401
        assert "That user name or email and password do not match an active account" in page_text(response)
    assert sign_in(client, "alice", "").status_code == 200  # the form asks for it again
    assert signed_in_as(client) is None
    assert users(session) == []


def test_an_empty_password_never_binds_although_the_server_takes_it_as_anonymous(
    directory_app, session, ldap_tree, alice
):
    server = ldap_tree.server
    # The server itself answers a bind with a name and no password as an anonymous success...
    whoami = subprocess.run(
        ["ldapwhoami", "-x", "-H", server.ldaps_url, "-D", alice, "-w", ""],
        capture_output=True,
        text=True,
        # libldap checks "localhost" against the machine's own name: its certificate check is beside
        # the point here (the desk's own is tested in test_tls.py).
        env={**os.environ, "LDAPTLS_REQCERT": "never"},
        check=False,
    )
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == "anonymous"
    # ...so the desk must refuse it itself, at every layer.
    settings = settings_for(ldap_tree)
    assert Directory(settings).password_matches(alice, "") is False
    assert Directory(settings).password_matches(alice, ALICE_PASSWORD) is True
    assert directory_accounts.sign_in(session, settings, "alice", "") is None
    assert users(session) == []


@pytest.mark.parametrize(
    "name", ["*", "*)(uid=*", "admin)(|(uid=*", "alice)(uid=*", "al*", "*)(objectClass=*", "alice\\", "\x00"]
)
def test_names_cannot_inject_into_the_search_filter(directory_app, client, session, ldap_tree, alice, name):
    ldap_tree.add_user("admin", "Admin-Password-9")
    refused = 400 if "\x00" in name else 401  # the site refuses NUL in any form before the page
    for password in (ALICE_PASSWORD, "Admin-Password-9"):
        assert sign_in(client, name, password).status_code == refused
    assert Directory(settings_for(ldap_tree)).find_person(name) is None
    assert users(session) == []


def test_a_name_full_of_filter_characters_is_matched_exactly(directory_app, client, session, ldap_tree):
    ldap_tree.add_user("o*brien(it)", "Brien-Password-7", mail="obrien@example.org")
    ldap_tree.add_user("o", "Other-Password-7", mail="o@example.org")
    assert sign_in(client, "o*brien(it)", "Other-Password-7").status_code == 401
    assert sign_in(client, "o*brien(it)", "Brien-Password-7").status_code == 302
    assert [u.email for u in users(session)] == ["obrien@example.org"]


def test_local_accounts_keep_working_beside_the_directory(directory_app, client, session, alice):
    local = make_requester(session, email="contractor@example.com")
    assert sign_in(client, local.email, "wrong-password").status_code == 401
    assert sign_in(client, local.email, PASSWORD).status_code == 302
    assert not directory_accounts.is_directory_account(session, users(session)[0])


def test_a_directory_account_cannot_sign_in_with_a_local_password(directory_app, client, session, alice):
    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    [user] = users(session)
    user.password_hash = hash_password("a-local-password")  # e.g. an admin's temporary password
    session.commit()
    assert sign_in(client, user.email, "a-local-password").status_code == 401
    tokens = client.post(
        "/api/v1/tokens", json={"email": user.email, "password": "a-local-password", "name": "script"}
    )
    assert tokens.status_code in (401, 403)
    assert sign_in(client, user.email, ALICE_PASSWORD).status_code == 302


def test_a_directory_person_whose_email_belongs_to_a_local_account_does_not_take_it_over(
    directory_app, client, session, ldap_tree
):
    boss = make_admin(session, email="boss@example.org", full_name="The Boss")
    # A directory where people may edit their own mail attribute: mallory sets the boss's address.
    ldap_tree.add_user("mallory", "Mallory-Password-1", mail="boss@example.org")
    assert sign_in(client, "mallory", "Mallory-Password-1").status_code == 401
    assert sign_in(client, "boss@example.org", "Mallory-Password-1").status_code == 401
    [user] = users(session)
    assert (user.id, user.role, user.full_name) == (boss.id, Role.ADMIN, "The Boss")
    assert not directory_accounts.is_directory_account(session, user)
    assert sign_in(client, "boss@example.org", PASSWORD).status_code == 302


def test_groups_give_the_role_and_teams_at_sign_in(directory_app, client, session, ldap_tree, alice):
    ldap_tree.add_to_group("desk-technicians", "alice")
    ldap_tree.add_to_group("network", "alice")
    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 302
    [user] = users(session)
    assert user.role is Role.TECHNICIAN
    assert [team.name for team in user.teams] == ["Network"]
    assert client.get("/").headers["Location"] == "/desk/"


def test_a_person_the_filter_leaves_out_cannot_sign_in(directory_app, client, session, ldap_tree):
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(
        config,
        directory=settings_for(
            ldap_tree, LDAP_USER_FILTER="(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"
        ),
    )
    ldap_tree.add_user("carol", "Carol-Password-1", employeeType="disabled")
    assert sign_in(client, "carol", "Carol-Password-1").status_code == 401
    assert users(session) == []


def test_sign_in_attempts_for_directory_names_spend_the_throttle(directory_app, client, session, alice):
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(config, login_limit_per_account="3 per minute")
    statuses = [sign_in(client, "alice", "guess").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 429
    assert signed_in_as(client) is None


def test_a_directory_that_does_not_answer_refuses_its_people_and_not_the_local_ones(
    directory_app, client, session, ldap_tree, alice
):
    local = make_requester(session, email="contractor@example.com")
    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    config = directory_app.config["SUPPORTDESK"]
    down = settings_for(ldap_tree, LDAP_URL="ldaps://localhost:1")
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(config, directory=down)
    response = sign_in(client, "alice", ALICE_PASSWORD)
    assert response.status_code == 503
    assert "directory" in response.get_data(as_text=True).lower()
    with pytest.raises(DirectoryUnavailable):
        Directory(down).find_person("alice")
    assert sign_in(client, local.email, PASSWORD).status_code == 302


def test_a_directory_account_gets_no_password_reset_mail(directory_app, client, session, alice):
    from supportdesk.notifications.models import OutboxMessage

    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    local = make_requester(session, email="contractor@example.com")
    for email in ("alice.liddell@example.org", local.email):
        response = client.post(
            "/password/forgot", data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")}
        )
        assert response.status_code in (200, 302)
    session.expire_all()
    sent = session.scalars(select(OutboxMessage.raw).where(OutboxMessage.kind == "password_reset")).all()
    assert len(sent) == 1 and local.email in sent[0]
