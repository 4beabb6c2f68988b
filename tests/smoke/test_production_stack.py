"""The production stack on loopback, without Docker: two gunicorn instances (deploy/gunicorn.conf.py)
behind Debian's nginx with the real site template (TLS with a throwaway certificate), PostgreSQL and
Redis. Signs in and raises a ticket through nginx, reads it back from each instance, and checks the
headers, the redirect to HTTPS, readiness, and that /metrics never leaves the machine.
`make smoke` runs only this; `make test` runs it with everything else."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from deploy.render_nginx import render
from tests.databases import (
    postgres_admin_url,
    postgres_reachable,
    redis_test_url,
    throwaway_postgres_database,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_URL = redis_test_url(14)
PASSWORD = "smoke-test-password"  # a throwaway account in a throwaway database


def _missing() -> str | None:
    if not Path(NGINX).exists():
        return "nginx is not installed (apt-get install nginx-light)"
    if not shutil.which("openssl"):
        return "openssl is not installed"
    if not postgres_reachable(postgres_admin_url()):
        return "PostgreSQL does not answer"
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        return "Redis does not answer"
    return None


def _nginx_takes_http2_on() -> bool:
    """nginx 1.25.1 and later take `http2 on;`; older ones (Debian 12 has 1.22) the listen parameter."""
    found = re.search(
        r"nginx/(\d+)\.(\d+)\.(\d+)", subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    )
    return found is not None and tuple(map(int, found.groups())) >= (1, 25, 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, context: ssl.SSLContext | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class Stack:
    https: str
    http: str
    instances: list[str]
    tls: ssl.SSLContext


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"smoke test cannot run under CI=true: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("stack")
    processes: list[subprocess.Popen[bytes]] = []
    with throwaway_postgres_database(postgres_admin_url()) as database_url:
        env = {
            **os.environ,
            "SUPPORTDESK_ENV": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SUPPORTDESK_INSTANCE": str(work / "instance"),
            "ATTACHMENTS_DIR": str(work / "attachments"),
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "TRUSTED_PROXIES": "1",
            "GUNICORN_WORKERS": "2",
            "TMPDIR": str(work),
        }
        flask = [str(BIN / "flask"), "--app", "supportdesk.app:create_app"]
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        for email, role in (("employee@smoke.example", "requester"), ("tech@smoke.example", "technician")):
            subprocess.run(
                [*flask, "create-user", "--email", email, "--name", email.split("@")[0].title(), "--role", role,
                 "--password", PASSWORD],
                env=env, cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
        ports = [_free_port(), _free_port()]
        for port in ports:
            processes.append(
                subprocess.Popen(
                    [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
                    env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=(work / f"gunicorn-{port}.log").open("wb"),
                    start_new_session=True,
                )
            )
        certificate, key = work / "cert.pem", work / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
            check=True, capture_output=True,
        )  # fmt: skip
        http_port, https_port = _free_port(), _free_port()
        site = render(
            server_name="localhost",
            http_port=http_port,
            https_port=https_port,
            upstreams=[f"127.0.0.1:{port}" for port in ports],
            tls_certificate=certificate,
            tls_certificate_key=key,
            static_root=ROOT / "supportdesk" / "static",
            client_max_body_size="60m",
            http2_directive=_nginx_takes_http2_on(),
        )
        (work / "logs").mkdir()
        (work / "nginx.conf").write_text(
            f"pid {work}/nginx.pid;\nerror_log {work}/logs/error.log;\nevents {{}}\n"
            f"http {{\n include /etc/nginx/mime.types;\n access_log {work}/logs/access.log;\n"
            f" client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;\n{site}\n}}\n"
        )
        processes.append(
            subprocess.Popen(
                [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                stderr=(work / "logs" / "nginx-stderr.log").open("wb"),
            )
        )
        tls = ssl.create_default_context(cafile=str(certificate))
        try:
            for port in ports:
                _wait_for(f"http://127.0.0.1:{port}/healthz")
            _wait_for(f"https://localhost:{https_port}/healthz", tls)
            yield Stack(
                https=f"https://localhost:{https_port}",
                http=f"http://localhost:{http_port}",
                instances=[f"http://127.0.0.1:{port}" for port in ports],
                tls=tls,
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)


class Browser:
    """Cookies and CSRF tokens, as a browser would carry them (through nginx, over TLS)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), urllib.request.HTTPSHandler(context=stack.tls)
        )

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        with self.opener.open(self.stack.https + path, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        _, _, page = self.get(path)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        data = urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode()
        # Browsers send the Referer; over HTTPS the CSRF check insists it names this site.
        request = urllib.request.Request(
            self.stack.https + path, data=data, headers={"Referer": self.stack.https + path}
        )
        with self.opener.open(request, timeout=10) as response:
            return response.status, response.url, response.read().decode()

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


def test_a_ticket_raised_through_nginx_is_read_back_from_every_instance(stack):
    browser = Browser(stack)
    browser.post_form("/login", {"email": "employee@smoke.example", "password": PASSWORD})
    status, url, _ = browser.post_form(
        "/portal/new",
        {
            "subject": "Smoke test: printer jammed",
            "description": "Raised through nginx.",
            "priority": "normal",
        },
    )
    assert status == 200 and "/portal/tickets/" in url, url
    number = url.rstrip("/").rsplit("/", 1)[-1]
    for instance in stack.instances:  # whichever instance nginx chose, the other one sees it too
        request = urllib.request.Request(
            f"{instance}/portal/tickets/{number}",
            headers={"Cookie": browser.cookie_header(), "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert "Smoke test: printer jammed" in response.read().decode()


def test_pages_and_files_through_nginx_carry_the_security_headers(stack):
    browser = Browser(stack)
    for path in ("/login", "/static/vendor/htmx.min.js"):
        status, headers, _ = browser.get(path)
        assert status == 200, path
        assert headers["Strict-Transport-Security"].startswith("max-age="), path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Server"] == "nginx", path  # no version
    _, headers, _ = browser.get("/login")
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])  # nginx's id, passed through the app
    assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]


def test_plain_http_is_redirected_to_https(stack):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(stack.http + "/login?next=%2Fdesk%2F", timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"] == stack.https + "/login?next=%2Fdesk%2F"


def test_ready_through_nginx_and_metrics_only_on_the_instances(stack):
    browser = Browser(stack)
    status, _, body = browser.get("/readyz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "database": "ok", "redis": "ok", "migrations": "ok"}
    with pytest.raises(urllib.error.HTTPError) as refused:
        browser.get("/metrics")
    assert refused.value.code == 404
    created = 0.0
    for instance in stack.instances:
        with urllib.request.urlopen(f"{instance}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert "supportdesk_http_requests_total" in text
        created += sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("supportdesk_tickets_created_total{")
        )
    assert created >= 1  # the earlier test's ticket, counted by whichever instance took it
