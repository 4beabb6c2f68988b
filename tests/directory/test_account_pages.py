"""A directory account on the account pages: its password is the directory's. Proving it is them again
(two-factor set-up, turning it off) takes the directory password; what a local password would change
(the password itself, a temporary one, the email the directory keeps) is refused with a reason."""

from __future__ import annotations

import dataclasses

import pyotp
from sqlalchemy import select

from supportdesk.accounts.models import TwoFactor, User
from tests.conftest import form_token, page_text
from tests.directory.fixtures import settings_for
from tests.directory.test_sign_in import ALICE_PASSWORD, sign_in
from tests.factories import make_admin

SECRET_PATTERN = r'data-secret="([A-Z2-7]{32})"'


def alice_signed_in(client, ldap_tree, session):  # type: ignore[no-untyped-def]
    ldap_tree.add_user("alice", ALICE_PASSWORD, mail="alice@example.org", name="Alice Liddell")
    ldap_tree.add_to_group("desk-technicians", "alice")
    assert sign_in(client, "alice", ALICE_PASSWORD).status_code == 302
    session.expire_all()
    return session.scalars(select(User).where(User.email == "alice@example.org")).one()


def test_two_factor_is_turned_on_with_the_directory_password(directory_app, client, session, ldap_tree):
    import re

    alice = alice_signed_in(client, ldap_tree, session)
    wrong = client.post(
        "/account/two-factor/start",
        data={**form_token(client, "/account/two-factor"), "password": "not-her-password"},
    )
    assert wrong.status_code == 422
    started = client.post(
        "/account/two-factor/start",
        data={**form_token(client, "/account/two-factor"), "password": ALICE_PASSWORD},
    )
    assert started.status_code in (200, 302)
    secret = re.search(SECRET_PATTERN, page_text(client.get("/account/two-factor"))).group(1)
    confirmed = client.post(
        "/account/two-factor/confirm",
        data={**form_token(client, "/account/two-factor"), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 200
    session.expire_all()
    assert session.get(TwoFactor, alice.id).enabled_at is not None


def test_the_directory_password_cannot_be_changed_here(directory_app, client, session, ldap_tree):
    alice = alice_signed_in(client, ldap_tree, session)
    response = client.post(
        "/account/password",
        data={
            **form_token(client, "/account/password"),
            "current_password": ALICE_PASSWORD,
            "new_password": "a-new-local-password",
            "confirm": "a-new-local-password",
        },
    )
    assert response.status_code == 422
    assert "company directory" in page_text(response)
    session.expire_all()
    assert session.get(User, alice.id).password_hash == "!directory"
    assert "company directory" in page_text(client.get("/account/password"))


def test_the_email_the_directory_keeps_is_not_changed_here(directory_app, client, session, ldap_tree):
    alice_signed_in(client, ldap_tree, session)
    response = client.post(
        "/account/email",
        data={
            **form_token(client, "/account/email"),
            "email": "alice.private@example.net",
            "password": ALICE_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "company directory" in page_text(response)


def test_an_admin_cannot_give_a_directory_account_a_temporary_password(
    directory_app, client, session, ldap_tree
):
    from tests.conftest import login

    alice = alice_signed_in(client, ldap_tree, session)
    admin = make_admin(session, email="root@example.com")
    admin_client = directory_app.test_client()
    login(admin_client, admin.email)
    response = admin_client.post(
        f"/admin/users/{alice.id}/password",
        data={**form_token(admin_client, "/admin/users"), "password": "temporary-123"},
    )
    assert response.status_code == 422
    assert "company directory" in page_text(response)
    session.expire_all()
    assert session.get(User, alice.id).password_hash == "!directory"


def test_a_directory_that_does_not_answer_says_so_when_the_password_is_asked_again(
    directory_app, client, session, ldap_tree
):
    alice_signed_in(client, ldap_tree, session)
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(
        config, directory=settings_for(ldap_tree, LDAP_URL="ldaps://localhost:1")
    )
    response = client.post(
        "/account/two-factor/start",
        data={**form_token(client, "/account/two-factor"), "password": ALICE_PASSWORD},
    )
    assert response.status_code == 422
    assert "does not answer" in page_text(response)


def test_the_admins_users_page_marks_directory_accounts_and_offers_them_no_temporary_password(
    directory_app, client, session, ldap_tree
):
    from tests.conftest import login

    alice = alice_signed_in(client, ldap_tree, session)
    admin = make_admin(session, email="root@example.com", full_name="Root Admin")
    local = make_admin(session, email="other@example.com", full_name="Other Admin")
    admin_client = directory_app.test_client()
    login(admin_client, admin.email)
    listing = page_text(admin_client.get("/admin/users"))
    assert listing.count("sd-directory-badge") == 1
    editing_alice = page_text(admin_client.get(f"/admin/users?edit={alice.id}"))
    assert "Set temporary password" not in editing_alice
    assert "follow the company directory" in editing_alice
    editing_local = page_text(admin_client.get(f"/admin/users?edit={local.id}"))
    assert "Set temporary password" in editing_local
    assert "follow the company directory" not in editing_local
