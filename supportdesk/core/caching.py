"""Values each app process keeps for a few seconds: things every desk page shows that change rarely
and may lag a few seconds behind (queue counts, the names in the field pickers). A process drops its
own copy at once when it learns of a change; other processes catch up within the time to live. Never
used for anything a permission or a write depends on."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_caches: weakref.WeakSet[BriefCache[Any, Any]] = weakref.WeakSet()


class BriefCache(Generic[K, V]):
    """Each key's value, computed at most once every `seconds` (unless asked for fresh)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, key: K, compute: Callable[[], V], *, fresh: bool = False) -> V:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now and not fresh:
            return entry[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def forget_all() -> None:
    """Drop every cached value in this process (tests start each case from an empty desk)."""
    for cache in _caches:
        cache.clear()
