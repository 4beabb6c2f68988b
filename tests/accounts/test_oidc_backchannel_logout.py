"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when someone signs out at the company's
identity provider (or it ends their session), the provider tells the desk, and every desk session of
that person ends. The provider is the real one the suite starts; it calls the desk on a real port."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from supportdesk.accounts.models import User
from tests.oidc.fixtures import ProviderBrowser

BACKCHANNEL = "/login/oidc/backchannel-logout"


def _desk_signed_in(base: str, username: str) -> tuple[requests.Session, ProviderBrowser]:
    desk, provider_browser = requests.Session(), ProviderBrowser()
    start = desk.get(f"{base}/login/oidc", allow_redirects=False, timeout=10)
    callback = provider_browser.authorize(start.headers["Location"], username)
    assert desk.get(callback, allow_redirects=False, timeout=10).status_code == 302
    assert desk.get(f"{base}/portal/", allow_redirects=False, timeout=10).status_code == 200
    return desk, provider_browser


def test_signing_out_at_the_provider_ends_the_desks_sessions(oidc_live_desk, oidc_provider, session):
    desk, provider_browser = _desk_signed_in(oidc_live_desk, "erin")
    other_browser, _ = _desk_signed_in(oidc_live_desk, "erin")
    bystander, _ = _desk_signed_in(oidc_live_desk, "tom")
    # At the provider, not at the desk: its own sign-out page, confirmed.
    page = provider_browser.http.get(f"{oidc_provider.issuer}/session/end", timeout=10)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    done = provider_browser.http.post(
        f"{oidc_provider.issuer}/session/end/confirm", data={**form, "logout": "yes"}, timeout=10
    )
    assert done.status_code == 200 and "You are signed out of Example IdP" in done.text
    for browser in (desk, other_browser):
        response = browser.get(f"{oidc_live_desk}/portal/", allow_redirects=False, timeout=10)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert bystander.get(f"{oidc_live_desk}/portal/", allow_redirects=False, timeout=10).status_code == 200


def _post(base: str, token: str) -> requests.Response:
    return requests.post(f"{base}{BACKCHANNEL}", data={"logout_token": token}, timeout=10)


def test_a_logout_token_that_fails_a_check_ends_nothing(oidc_live_desk, oidc_provider, session):
    desk, _ = _desk_signed_in(oidc_live_desk, "erin")
    epoch = session.scalars(select(User.session_epoch).where(User.email == "erin@example.com")).one()
    event = {"http://schemas.openid.net/event/backchannel-logout": {}}
    bad = {
        "not a token": "not.a.token",
        "for another client": oidc_provider.logout_token(sub="erin", aud="another-app"),
        "from another issuer": oidc_provider.logout_token(sub="erin", iss="http://127.0.0.1:1/other"),
        "expired": oidc_provider.logout_token(sub="erin", iat=1_000_000, exp=1_000_100),
        "no logout event": oidc_provider.logout_token(sub="erin", events=None),
        "another event": oidc_provider.logout_token(sub="erin", events={"https://example.com/other": {}}),
        "a nonce (an ID token's)": oidc_provider.logout_token(sub="erin", nonce="n", events=event),
        "no subject": oidc_provider.logout_token(sub=None, sid="some-session"),
        "signature altered": oidc_provider.logout_token(sub="erin")[:-4] + "AAAA",
    }
    for reason, token in bad.items():
        response = _post(oidc_live_desk, token)
        assert response.status_code == 400, (reason, response.text)
        assert response.headers["Cache-Control"] == "no-store"
    assert requests.post(f"{oidc_live_desk}{BACKCHANNEL}", data={}, timeout=10).status_code == 400
    session.expire_all()
    assert session.scalars(select(User.session_epoch).where(User.email == "erin@example.com")).one() == epoch
    assert desk.get(f"{oidc_live_desk}/portal/", allow_redirects=False, timeout=10).status_code == 200
    # A valid token for someone the desk does not know is answered (nothing to end), and ends nothing.
    assert _post(oidc_live_desk, oidc_provider.logout_token(sub="nobody-here")).status_code == 200
    # The same kind of token for Erin ends her sessions.
    assert _post(oidc_live_desk, oidc_provider.logout_token(sub="erin")).status_code == 200
    assert desk.get(f"{oidc_live_desk}/portal/", allow_redirects=False, timeout=10).status_code == 302


def test_without_sso_the_back_channel_is_not_there(client):
    assert client.post(BACKCHANNEL, data={"logout_token": "x.y.z"}).status_code == 404
