"""The database goes away and comes back: pages and API say "unavailable" meanwhile, /readyz reports it,
and the app recovers by itself without a restart."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from supportdesk.app import create_app
from tests.conftest import make_config


class TcpProxy:
    """A loopback proxy to the database that can be cut and restored, like a network outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied_app(app, backend, database_url, tmp_path) -> Iterator[tuple[object, TcpProxy]]:
    if backend != "postgresql":
        pytest.skip("an outage of a database server; SQLite is a file in the same process")
    parts = urlsplit(database_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    application = create_app(make_config(urlunsplit(parts._replace(netloc=netloc)), tmp_path))
    application.config["PROPAGATE_EXCEPTIONS"] = False
    yield application, proxy
    proxy.cut()
    application.extensions["supportdesk.engine"].dispose()


def test_an_outage_is_reported_and_recovered_from_without_a_restart(proxied_app):
    application, proxy = proxied_app
    client = application.test_client()
    assert client.get("/readyz").get_json()["database"] == "ok"
    proxy.cut()
    assert client.get("/readyz").get_json()["database"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # alive: restarting it would not bring the database back
    page = client.get("/login")
    assert page.status_code in (200, 503)  # the sign-in form itself needs no database
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer sd_whatever"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    proxy.start()
    assert client.get("/readyz").get_json()["database"] == "ok"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer sd_whatever"}).status_code == 401
