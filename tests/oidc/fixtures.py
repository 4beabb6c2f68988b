"""The OpenID Connect provider fixtures (a plugin of the root conftest): panva's `oidc-provider` (npm,
installed into tests/oidc/node_modules by `make test`) run by Node.js on a free loopback port, once per
test session; the app pointed at it per test. Skipped with the reason when Node.js or the package is
missing; under CI=true that is a failure."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from supportdesk.core.oidc_settings import OidcSettings
from tests.mail.servers import free_port

HERE = Path(__file__).resolve().parent
CLIENT_ID = "supportdesk"
CLIENT_SECRET = "supportdesk-test-secret"  # the test provider's client, in provider.mjs
PASSWORDS = {"erin": "erin-password", "tom": "tom-password", "alice": "alice-password"}
PASSWORDS |= {"vera": "vera-password", "mallory": "mallory-password"}


@dataclasses.dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen[bytes]

    def control(self, action: str, **body: Any) -> dict[str, Any]:
        response = requests.post(f"{self.issuer}/__test/{action}", json=body, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def configure(
        self,
        redirect_uris: list[str],
        post_logout_redirect_uris: list[str],
        backchannel_logout_uri: str | None = None,
    ) -> None:
        self.control(
            "configure",
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            backchannel_logout_uri=backchannel_logout_uri,
        )

    def logout_token(self, **claims: Any) -> str:
        """A back-channel logout token signed with the provider's key (None drops a claim)."""
        token: str = self.control("logout-token", **claims)["token"]
        return token

    def rotate_keys(self) -> list[str]:
        """A new signing key signs from now on; returns the published key ids, newest first."""
        kids: list[str] = self.control("rotate")["kids"]
        return kids

    def requests_to(self, path: str) -> int:
        """How many requests the provider has had at `path` since it started."""
        counts: dict[str, int] = requests.get(f"{self.issuer}/__test/stats", timeout=10).json()
        return counts.get(path, 0)

    def misbehave(self, mode: str | None) -> None:
        self.control("misbehave", mode=mode)

    def settings(self, **overrides: Any) -> OidcSettings:
        return OidcSettings(
            **{
                "issuer": self.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "provider_name": "Example IdP",
                "scopes": "openid email profile groups",
                "create_users": True,
                **overrides,
            }
        )


def _require_provider() -> str:
    node = shutil.which("node")
    reason = None
    if node is None:
        reason = "Node.js is missing: the OpenID Connect tests need it to run oidc-provider"
    elif not (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        reason = "tests/oidc/node_modules is missing: run `make oidc-provider` (npm ci in tests/oidc)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"OpenID Connect tests cannot run under CI=true: {reason}")
        pytest.skip(reason)
    assert node is not None
    return node


@pytest.fixture(scope="session")
def oidc_provider_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    node = _require_provider()
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own script
            [node, str(HERE / "provider.mjs"), str(port)], stdout=output, stderr=subprocess.STDOUT, cwd=HERE
        )
    provider = OidcProvider(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while b"listening" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"oidc-provider did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    try:
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def oidc_provider(oidc_provider_server: OidcProvider) -> Iterator[OidcProvider]:
    """The session's provider, behaving, with the client registered for the test client's address."""
    oidc_provider_server.misbehave(None)
    oidc_provider_server.configure(
        ["http://127.0.0.1:5000/login/oidc/callback"], ["http://127.0.0.1:5000/login"]
    )
    yield oidc_provider_server
    oidc_provider_server.misbehave(None)


@pytest.fixture
def oidc_app(clean_app: Flask, oidc_provider: OidcProvider) -> Iterator[Flask]:
    """The app with SSO on through the test provider (accounts created on first sign-in)."""
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, oidc=oidc_provider.settings())
    yield clean_app
    clean_app.config["SUPPORTDESK"] = settings


@pytest.fixture
def oidc_live_desk(oidc_app: Flask, oidc_provider: OidcProvider) -> Iterator[str]:
    """The SSO desk served on a free loopback port, registered at the provider under that address
    (sign-in, sign-out and back-channel logout), for what the provider itself calls."""
    server = make_server("127.0.0.1", 0, oidc_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    oidc_provider.configure(
        [f"{base}/login/oidc/callback"], [f"{base}/login"], f"{base}/login/oidc/backchannel-logout"
    )
    use_oidc(oidc_app, oidc_provider, public_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)


def use_oidc(app: Flask, provider: OidcProvider, **overrides: Any) -> None:
    """Change the app's SSO settings within a test (the oidc_app fixture puts the originals back);
    `public_url` is the desk's own setting."""
    desk = {key: overrides.pop(key) for key in ("public_url",) if key in overrides}
    app.config["SUPPORTDESK"] = dataclasses.replace(
        app.config["SUPPORTDESK"], oidc=provider.settings(**overrides), **desk
    )


class ProviderBrowser:
    """What a browser does at the provider: follow its redirects, fill in its own login form."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def authorize(self, authorization_url: str, username: str, password: str | None = None) -> str:
        """The URL the provider sends the browser back to (our callback with code and state)."""
        response = self._follow(authorization_url)
        if (
            "/interaction/" in response.url
            and response.status_code == 200
            and 'name="password"' in response.text
        ):
            action = urljoin(response.url, f"{urlsplit(response.url).path}/login")
            response = self.http.post(
                action,
                data={"username": username, "password": password or PASSWORDS[username]},
                allow_redirects=False,
                timeout=10,
            )
            location = response.headers.get("Location")
            assert location, response.text
            response = self._follow(urljoin(action, location))
        assert response.status_code in (302, 303), response.text
        return response.headers["Location"]

    def _follow(self, url: str) -> requests.Response:
        """Follow the provider's own redirects; stop at a page, or at a redirect leaving the provider."""
        provider_origin = None
        for _ in range(10):
            response = self.http.get(url, allow_redirects=False, timeout=10)
            origin = urlsplit(url)[:2]
            provider_origin = provider_origin or origin
            location = response.headers.get("Location")
            if response.status_code not in (302, 303) or not location:
                return response
            target = urljoin(url, location)
            if urlsplit(target)[:2] != provider_origin:
                return response
            url = target
        raise AssertionError("the provider redirects in circles")


def start_sign_in(client: FlaskClient, next_page: str | None = None) -> str:
    """The provider's authorization URL the sign-in button leads to."""
    response = client.get("/login/oidc" + (f"?next={next_page}" if next_page else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def callback_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    assert parts.path == "/login/oidc/callback", callback_url
    return f"{parts.path}?{parts.query}"


def sign_in(client: FlaskClient, username: str, password: str | None = None):  # type: ignore[no-untyped-def]
    """The whole sign-in through the provider; our callback's response."""
    callback = ProviderBrowser().authorize(start_sign_in(client), username, password)
    return client.get(callback_path(callback))
