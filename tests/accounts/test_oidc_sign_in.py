"""Signing in with the company's identity provider: a real OpenID Connect provider (panva's oidc-provider,
started by the suite) through its own login page, and what SupportDesk does with what it answers."""

from __future__ import annotations

import dataclasses
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from supportdesk.accounts.audit import AuditEntry
from supportdesk.accounts.identities import ExternalIdentity
from supportdesk.accounts.models import Role, User
from supportdesk.tickets.models import Ticket
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_team, make_technician
from tests.mail.servers import free_port
from tests.oidc.fixtures import ProviderBrowser, callback_path, sign_in, start_sign_in, use_oidc


def _signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    response = client.get("/portal/")
    if response.status_code != 200:
        return None
    return page_text(response)


def test_an_employee_signs_in_is_created_and_raises_a_ticket(oidc_app, session):
    client = oidc_app.test_client()
    assert "Sign in with Example IdP" in page_text(client.get("/login"))
    response = sign_in(client, "erin")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    erin = session.scalars(select(User).where(User.email == "erin@example.com")).one()
    assert (erin.full_name, erin.role, erin.is_active) == ("Erin Employee", Role.REQUESTER, True)
    assert erin.last_login_at is not None
    identity = session.scalars(select(ExternalIdentity)).one()
    assert (identity.user_id, identity.issuer, identity.subject) == (
        erin.id,
        oidc_app.config["SUPPORTDESK"].oidc.issuer,
        "erin",
    )
    data = {
        **form_token(client, "/portal/new"),
        "subject": "Laptop will not start",
        "description": "Black screen",
    }
    response = client.post("/portal/new", data=data)
    assert response.status_code == 302, page_text(response)
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.requester_id == erin.id
    # A second sign-in is the same person: matched by the provider's subject, no second account.
    client.post("/logout", data=form_token(client, "/portal/"))
    assert sign_in(oidc_app.test_client(), "erin").status_code == 302
    session.expire_all()
    assert session.scalars(select(User).where(User.email == "erin@example.com")).one().id == erin.id
    assert len(session.scalars(select(ExternalIdentity)).all()) == 1


def test_the_sign_in_returns_to_the_page_asked_for(oidc_app):
    client = oidc_app.test_client()
    callback = ProviderBrowser().authorize(start_sign_in(client, next_page="/portal/new"), "erin")
    assert client.get(callback_path(callback)).headers["Location"] == "/portal/new"


def test_sign_in_still_works_after_the_provider_rotates_its_signing_key(oidc_app, oidc_provider, session):
    assert sign_in(oidc_app.test_client(), "erin").status_code == 302  # the old key is now known here
    assert sign_in(oidc_app.test_client(), "tom").status_code == 302
    fetched = oidc_provider.requests_to("/jwks")
    new_kid = oidc_provider.rotate_keys()[0]
    client = oidc_app.test_client()
    callback = ProviderBrowser().authorize(start_sign_in(client), "vera")
    response = client.get(callback_path(callback))
    assert response.status_code == 302, page_text(response)
    assert _signed_in_as(client) is not None
    # The unknown key id fetched the JWKS again, once; the next sign-in needs no fetch at all.
    assert oidc_provider.requests_to("/jwks") == fetched + 1
    assert sign_in(oidc_app.test_client(), "alice").status_code == 302
    assert oidc_provider.requests_to("/jwks") == fetched + 1
    jwks = requests.get(f"{oidc_provider.issuer}/jwks", timeout=5).json()
    assert jwks["keys"][0]["kid"] == new_kid and len(jwks["keys"]) >= 2


def _refused(oidc_app, session, username: str, status: int, words: str):  # type: ignore[no-untyped-def]
    client = oidc_app.test_client()
    response = sign_in(client, username)
    assert response.status_code == status, page_text(response)
    assert words in page_text(response)
    assert _signed_in_as(client) is None
    return response


def test_an_expired_id_token_signs_nobody_in(oidc_app, oidc_provider, session):
    oidc_provider.misbehave("expired")
    response = _refused(oidc_app, session, "erin", 401, "failed SupportDesk")
    assert "ExpiredToken" in page_text(response)
    assert session.scalars(select(User)).all() == []


def test_an_id_token_for_another_client_signs_nobody_in(oidc_app, oidc_provider, session):
    oidc_provider.misbehave("wrong-audience")
    response = _refused(oidc_app, session, "erin", 401, "failed SupportDesk")
    assert "aud" in page_text(response)
    assert session.scalars(select(User)).all() == []


def test_an_id_token_from_another_issuer_or_sign_in_signs_nobody_in(oidc_app, oidc_provider, session):
    oidc_provider.misbehave("wrong-issuer")
    assert "iss" in page_text(_refused(oidc_app, session, "erin", 401, "failed SupportDesk"))
    oidc_provider.misbehave("wrong-nonce")
    assert "nonce" in page_text(_refused(oidc_app, session, "erin", 401, "failed SupportDesk"))
    assert session.scalars(select(User)).all() == []


def test_a_tampered_id_token_signs_nobody_in(oidc_app, oidc_provider, session):
    make_admin(session, email="alice@example.com")  # the subject the tampered token claims
    oidc_provider.misbehave("tampered")
    response = _refused(oidc_app, session, "erin", 401, "failed SupportDesk")
    assert "BadSignature" in page_text(response)
    assert session.scalars(select(ExternalIdentity)).all() == []


def test_a_replayed_or_foreign_state_is_refused_without_asking_the_provider(oidc_app, session):
    client = oidc_app.test_client()
    callback = callback_path(ProviderBrowser().authorize(start_sign_in(client), "erin"))
    assert client.get(callback).status_code == 302
    client.post("/logout", data=form_token(client, "/portal/"))
    replay = client.get(callback)
    assert replay.status_code == 400 and "already used or has expired" in page_text(replay)
    assert _signed_in_as(client) is None
    # A callback for a sign-in this browser never began (a link planted by someone else).
    stranger = oidc_app.test_client()
    assert stranger.get(callback).status_code == 400
    assert _signed_in_as(stranger) is None


def test_a_code_used_once_is_refused_by_the_provider_and_signs_nobody_in(oidc_app, session):
    client = oidc_app.test_client()
    callback = callback_path(ProviderBrowser().authorize(start_sign_in(client), "erin"))
    # Someone holding the browser's cookie and the callback URL (code and state) replays both.
    copy = oidc_app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    assert client.get(callback).status_code == 302
    replay = copy.get(callback)
    assert replay.status_code == 401, page_text(replay)
    assert "refused the sign-in" in page_text(replay) and "invalid_grant" in page_text(replay)
    assert _signed_in_as(copy) is None


def test_an_unverified_email_claim_never_takes_over_an_account(oidc_app, session):
    boss = make_admin(session, email="boss@example.com", full_name="The Boss")
    # Mallory's provider account says "boss@example.com", without the provider vouching for it.
    response = _refused(
        oidc_app, session, "mallory", 403, "does not confirm that your email address is yours"
    )
    session.expire_all()
    assert session.scalars(select(ExternalIdentity)).all() == []
    assert session.get(User, boss.id).role is Role.ADMIN
    assert "The Boss" not in page_text(response)


def test_a_verified_email_links_the_existing_account(oidc_app, session):
    vera = make_technician(session, email="vera@example.com", full_name="Vera Local")
    client = oidc_app.test_client()
    assert sign_in(client, "vera").status_code == 302
    identity = session.scalars(select(ExternalIdentity)).one()
    assert identity.user_id == vera.id and identity.email == "vera@example.com"
    assert client.get("/desk/").status_code == 200
    assert len(session.scalars(select(User)).all()) == 1


def test_without_account_creation_a_newcomer_gets_a_clear_refusal(oidc_app, oidc_provider, session):
    use_oidc(oidc_app, oidc_provider, create_users=False)
    _refused(oidc_app, session, "erin", 403, "Ask the IT desk to add you")
    assert session.scalars(select(User)).all() == []


def test_a_deactivated_user_is_refused(oidc_app, session):
    make_requester(session, email="erin@example.com", is_active=False)
    _refused(oidc_app, session, "erin", 403, "deactivated")
    assert session.get(ExternalIdentity, 1) is None


def test_groups_map_to_role_and_teams_on_every_sign_in(oidc_app, oidc_provider, session):
    hand_made = make_team(session, "Hardware")
    use_oidc(
        oidc_app,
        oidc_provider,
        admin_groups=frozenset({"IT-Admins"}),
        technician_groups=frozenset({"IT-Desk"}),
        team_groups=(("IT-Desk", "Service desk"), ("Network", "Network team"), ("IT-Admins", "Admins")),
    )
    for username in ("tom", "alice", "erin"):
        assert sign_in(oidc_app.test_client(), username).status_code == 302
    people = {u.email.split("@")[0]: u for u in session.scalars(select(User))}
    assert (people["tom"].role, people["alice"].role, people["erin"].role) == (
        Role.TECHNICIAN,
        Role.ADMIN,
        Role.REQUESTER,
    )
    assert [t.name for t in people["tom"].teams] == ["Network team", "Service desk"]
    assert [t.name for t in people["alice"].teams] == ["Admins"]
    assert people["erin"].teams == []
    # An admin demotes Tom and adds him to a team by hand: the provider's groups win back the role and
    # the mapped teams on his next sign-in; the hand-made team stays.
    tom = people["tom"]
    tom.role = Role.REQUESTER
    tom.teams = [hand_made]
    session.commit()
    assert sign_in(oidc_app.test_client(), "tom").status_code == 302
    session.expire_all()
    tom = session.get(User, tom.id)
    assert tom.role is Role.TECHNICIAN
    assert sorted(t.name for t in tom.teams) == ["Hardware", "Network team", "Service desk"]


def test_sign_out_ends_the_local_session_and_the_providers(oidc_app, oidc_provider, session):
    client = oidc_app.test_client()
    browser = ProviderBrowser()
    assert client.get(callback_path(browser.authorize(start_sign_in(client), "erin"))).status_code == 302
    stolen_cookie = client.get_cookie("session").value
    response = client.post("/logout", data=form_token(client, "/portal/"))
    assert response.status_code == 200
    # A page that moves on by itself (a form's redirect to another site is what the CSP forbids).
    match = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', page_text(response))
    assert match
    provider_logout = html.unescape(match.group(1))
    assert f'href="{match.group(1)}"' in page_text(response)
    end_session = urlsplit(provider_logout)
    assert (
        f"{end_session.scheme}://{end_session.netloc}{end_session.path}"
        == f"{oidc_provider.issuer}/session/end"
    )
    query = parse_qs(end_session.query)
    assert query["post_logout_redirect_uri"] == ["http://127.0.0.1:5000/login"]
    assert query["id_token_hint"][0].count(".") == 2
    # The local session is over, for a copy of the cookie too.
    copy = oidc_app.test_client()
    copy.set_cookie("session", stolen_cookie, domain="localhost")
    assert _signed_in_as(copy) is None
    # At the provider: its own confirmation page, then back to our sign-in page, signed out there too.
    page = browser.http.get(provider_logout, timeout=10)
    assert "Sign out of Example IdP?" in page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    done = browser.http.post(
        f"{oidc_provider.issuer}/session/end/confirm",
        data={**form, "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.headers["Location"].startswith("http://127.0.0.1:5000/login")
    # Signing in again asks for the password at the provider again.
    again = browser.http.get(start_sign_in(oidc_app.test_client()), allow_redirects=True, timeout=10)
    assert 'name="password"' in again.text


def test_sso_users_skip_the_local_second_factor(oidc_app, oidc_provider, session):
    settings = oidc_app.config["SUPPORTDESK"]
    oidc_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings,
        require_two_factor=("admin",),
        oidc=oidc_provider.settings(admin_groups=frozenset({"IT-Admins"})),
    )
    client = oidc_app.test_client()
    assert sign_in(client, "alice").status_code == 302
    assert client.get("/desk/").status_code == 200  # not sent to set up an authenticator


def test_employees_may_be_kept_off_local_passwords(oidc_app, oidc_provider, session):
    employee = make_requester(session, email="erin@example.com")
    technician = make_technician(session)
    use_oidc(oidc_app, oidc_provider, employee_passwords=False)
    client = oidc_app.test_client()
    data = {**form_token(client, "/login"), "email": employee.email, "password": "password123"}
    refused = client.post("/login", data=data)
    assert refused.status_code == 403 and "Sign in with Example IdP instead" in page_text(refused)
    session.expire_all()
    assert session.get(User, employee.id).last_login_at is None
    login(oidc_app.test_client(), technician.email)  # staff keep a way in when the provider is down


def test_without_sso_there_is_no_button_and_no_route(client):
    assert "Sign in with" not in page_text(client.get("/login"))
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_an_unreachable_provider_is_a_clear_page_not_a_500(oidc_app, oidc_provider):
    use_oidc(oidc_app, oidc_provider, issuer=f"http://127.0.0.1:{free_port()}")
    response = oidc_app.test_client().get("/login/oidc")
    assert response.status_code == 502 and "cannot be reached" in page_text(response)


def test_what_the_provider_changes_is_in_the_admin_audit_log(oidc_app, oidc_provider, session):
    use_oidc(
        oidc_app,
        oidc_provider,
        technician_groups=frozenset({"IT-Desk"}),
        team_groups=(("IT-Desk", "Service desk"),),
    )
    assert sign_in(oidc_app.test_client(), "tom").status_code == 302
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_label) for e in entries] == [
        ("user.created", "tom@example.com"),
        ("sign_in.provider_linked", "tom@example.com"),
        ("team.created", "Service desk"),
        ("team.members_changed", "Service desk"),
    ]
    created, linked, _, members = entries
    assert created.after == {"email": "tom@example.com", "full_name": "Tom Technician", "role": "technician"}
    assert linked.after == {"issuer": oidc_provider.issuer, "subject": "tom"}
    assert members.before == {"members": []} and members.after == {"members": ["tom@example.com"]}
    assert {(e.actor_id, e.via, e.ip) for e in entries} == {(None, "sso", "127.0.0.1")}
    # An admin demotes Tom; his next sign-in puts the provider's role back, and says so.
    tom = session.scalars(select(User).where(User.email == "tom@example.com")).one()
    tom.role = Role.REQUESTER
    session.commit()
    assert sign_in(oidc_app.test_client(), "tom").status_code == 302
    latest = session.scalars(select(AuditEntry).where(AuditEntry.id > members.id)).all()
    assert [(e.action, e.before, e.after) for e in latest] == [
        ("user.role_changed", {"role": "requester"}, {"role": "technician"})
    ]
    # A sign-in that changes nothing records nothing.
    assert sign_in(oidc_app.test_client(), "tom").status_code == 302
    assert session.scalars(select(AuditEntry).where(AuditEntry.id > latest[0].id)).all() == []


def test_only_people_of_the_desks_domains_come_in_when_the_desk_names_them(oidc_app, oidc_provider, session):
    use_oidc(oidc_app, oidc_provider, allowed_domains=frozenset({"example.org"}))
    _refused(oidc_app, session, "erin", 403, "not one of this desk")
    assert session.scalars(select(User)).all() == []
    use_oidc(oidc_app, oidc_provider, allowed_domains=frozenset({"example.org", "example.com"}))
    assert sign_in(oidc_app.test_client(), "erin").status_code == 302


def test_at_google_a_consumer_account_with_a_company_address_is_not_the_companys(session):
    from supportdesk.accounts import oidc
    from supportdesk.core.oidc_settings import OidcSettings

    google = OidcSettings(
        issuer=oidc.GOOGLE_ISSUER,
        client_id="id",
        client_secret="secret",  # no provider is called: the claims are given
        create_users=True,
        allowed_domains=frozenset({"example.com"}),
    )
    claims = {"sub": "1", "email": "erin@example.com", "email_verified": True}
    for hosted in (None, "other.example"):
        with pytest.raises(oidc.SignInRefused) as refused:
            oidc.sign_in(session, google, {**claims, **({"hd": hosted} if hosted else {})})
        assert refused.value.code == "other-domain"
    session.rollback()
    user = oidc.sign_in(session, google, {**claims, "hd": "example.com"})
    assert user.email == "erin@example.com"
    session.rollback()


def test_a_discovery_document_naming_another_issuer_is_refused(oidc_app, oidc_provider):
    # The same provider reached by another name: its discovery document names 127.0.0.1, not localhost.
    use_oidc(oidc_app, oidc_provider, issuer=oidc_provider.issuer.replace("127.0.0.1", "localhost"))
    response = oidc_app.test_client().get("/login/oidc")
    assert response.status_code == 502 and "discovery names another issuer" in page_text(response)


def test_a_cancelled_or_mixed_up_answer_signs_nobody_in(oidc_app, session):
    client = oidc_app.test_client()
    callback = callback_path(ProviderBrowser().authorize(start_sign_in(client), "erin"))
    # The person pressed Cancel at the provider (it answers with an error instead of a code).
    state = parse_qs(urlsplit(callback).query)["state"][0]
    cancelled = client.get(
        f"/login/oidc/callback?error=access_denied&error_description=cancelled&state={state}"
    )
    assert cancelled.status_code == 401 and "did not sign you in" in page_text(cancelled)
    # An answer that names another provider as its issuer (RFC 9207: a mix-up attack).
    mixed_up = client.get(re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example", callback))
    assert mixed_up.status_code == 400 and "another identity provider" in page_text(mixed_up)
    assert _signed_in_as(client) is None
    assert session.scalars(select(User)).all() == []


def test_the_admins_users_page_marks_who_signs_in_with_the_provider(oidc_app, session):
    assert sign_in(oidc_app.test_client(), "erin").status_code == 302
    admin = make_admin(session, email="root@example.com")
    admin_client = oidc_app.test_client()
    login(admin_client, admin.email)
    listing = page_text(admin_client.get("/admin/users"))
    assert listing.count("sd-sso-badge") == 1
    assert re.search(r"Erin Employee <span[^>]*sd-sso-badge[^>]*title=\"Signs in with Example IdP\"", listing)


def test_an_id_token_too_big_for_a_cookie_still_signs_in_and_out(oidc_app, oidc_provider, session):
    """Entra ID puts a member's groups (up to 200 ids) in the ID token; browsers drop a cookie over 4 KB,
    so keeping that token in the session cookie would sign such people in and out at once."""
    oidc_provider.misbehave("many-groups")
    client = oidc_app.test_client()
    browser = ProviderBrowser()
    response = client.get(callback_path(browser.authorize(start_sign_in(client), "erin")))
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert len(cookie.split(";")[0]) < 4000, f"a session cookie of {len(cookie)} bytes is dropped by browsers"
    assert _signed_in_as(client) is not None
    # Sign-out still ends the provider's session: named by our client id instead of the token.
    signed_out = client.post("/logout", data=form_token(client, "/portal/"))
    match = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', page_text(signed_out))
    assert match
    query = parse_qs(urlsplit(html.unescape(match.group(1))).query)
    assert "id_token_hint" not in query
    assert query["client_id"] == [oidc_provider.settings().client_id]
    page = browser.http.get(html.unescape(match.group(1)), timeout=10)
    assert "Sign out of Example IdP?" in page.text
