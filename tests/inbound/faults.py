"""A TCP proxy in front of the test IMAP server that can cut the connection after the server has sent a
given number of bytes: the network failing in the middle of a poll, wherever that happens to be. The
conversation is TLS, so the proxy cannot read it; it records where the server's writes ended
(`boundaries`), and a cut at one of those is a cut between two of the server's answers (after a fetch
was answered, before the move that follows the commit is)."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.mail.servers import free_port


class CuttingProxy:
    """Forwards 127.0.0.1:`port` to the server; with `cut_after` set, a connection is closed (both ways,
    abruptly, so what the client sends next never arrives) as soon as the server has sent that many
    bytes on it. `boundaries` holds, for the last connection, the byte counts at which the server's
    data arrived in a piece."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.port = free_port()
        self.cut_after: int | None = None
        self.boundaries: list[int] = []
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.server_port))
            self.boundaries = []
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        sent = 0
        limit = self.cut_after if from_server else None
        boundaries = self.boundaries
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: limit - sent])
                    self.cuts += 1
                    break
                sink.sendall(data)
                sent += len(data)
                if from_server:
                    boundaries.append(sent)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
