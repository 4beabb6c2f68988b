"""A browser's view of the desk through the VM's nginx over HTTPS: cookies, CSRF tokens, and a
background load that counts every request that did not get its answer."""

from __future__ import annotations

import http.cookiejar
import re
import secrets
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field


class Browser:
    def __init__(self, base: str, tls: ssl.SSLContext) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), urllib.request.HTTPSHandler(context=tls)
        )

    def get(self, path: str, timeout: float = 60) -> tuple[int, str, str]:
        with self.opener.open(self.base + path, timeout=timeout) as response:
            return response.status, response.url, response.read().decode()

    def post_form(
        self, path: str, fields: dict[str, str], timeout: float = 60, file: tuple[str, bytes] | None = None
    ) -> tuple[int, str, str]:
        _, _, page = self.get(path, timeout)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        fields = {**fields, "csrf_token": token.group(1)}
        headers = {"Referer": self.base + path}
        if file is None:
            data = urllib.parse.urlencode(fields).encode()
        else:  # a browser's multipart form with one file in "attachments"
            boundary = secrets.token_hex(16)
            parts = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                for name, value in fields.items()
            ]
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{file[0]}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
                + file[1]
                + f"\r\n--{boundary}--\r\n".encode()
            )
            data = b"".join(parts)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        with self.opener.open(request, timeout=timeout) as response:
            return response.status, response.url, response.read().decode()

    def attachment(self, ticket: str) -> bytes:
        """The first attachment on the ticket's page, downloaded."""
        _, _, page = self.get(f"/portal/tickets/{ticket}")
        link = re.search(rf'href="(/tickets/{ticket}/attachments/\d+)"', page)
        assert link, "no attachment on the ticket's page"
        with self.opener.open(self.base + link.group(1), timeout=60) as response:
            return response.read()

    def sign_in(self, email: str, password: str) -> None:
        status, url, page = self.post_form("/login", {"email": email, "password": password})
        assert status == 200 and "/login" not in url, f"sign-in failed: {url}\n{page[:500]}"

    def raise_ticket(self, subject: str, file: tuple[str, bytes] | None = None) -> str:
        status, url, page = self.post_form(
            "/portal/new",
            {"subject": subject, "description": "Raised by the deploy test.", "priority": "normal"},
            file=file,
        )
        assert status == 200 and "/portal/tickets/" in url, f"no ticket: {url}\n{page[:500]}"
        return url.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Load:
    """Requests through nginx while a deploy runs: reading a ticket page and, every few requests,
    raising a ticket (a POST, which nginx must never send twice). Every failure is kept."""

    browser: Browser
    ticket: str
    requests: int = 0
    posts: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=120)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.requests += 1
            try:
                if self.requests % 5 == 0:
                    self.posts += 1
                    self.browser.raise_ticket(f"Raised during a deploy ({self.posts})")
                else:
                    status, _, page = self.browser.get(f"/portal/tickets/{self.ticket}")
                    if status != 200 or "Printer on floor 2" not in page:
                        self.failures.append(f"{time.strftime('%H:%M:%S')} GET answered {status}")
            except (urllib.error.URLError, OSError, AssertionError) as error:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}")
            time.sleep(0.3)
