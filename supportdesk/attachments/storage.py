"""Local file storage for attachments, outside any static folder, under random names."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The stream was longer than the limit; nothing was kept."""


class StorageFailed(Exception):
    """The file system refused the file (full, read-only, gone); nothing was kept."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("storage keys are generated hex strings")
        return self.root / key[:2] / key[2:4] / key

    def save(self, stream: IO[bytes], limit: int) -> tuple[str, int, bytes]:
        """Write the stream under a new random key. Returns (key, size, first bytes for sniffing)."""
        key = secrets.token_hex(16)
        path = self.path_for(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return key, *self._write(path, stream, limit)
        except TooLarge:
            path.unlink(missing_ok=True)
            raise
        except OSError as error:  # a full disk (ENOSPC), a quota, a read-only or vanished volume
            path.unlink(missing_ok=True)
            raise StorageFailed(error.strerror or str(error)) from error

    @staticmethod
    def _write(path: Path, stream: IO[bytes], limit: int) -> tuple[int, bytes]:
        size = 0
        head = b""
        with open(path, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return size, head

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)
