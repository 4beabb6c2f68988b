"""Values each app process keeps for a few seconds: things every desk page shows that change rarely and
may lag a few seconds behind (queue counts, the names in the field pickers). Never used for anything a
permission or a write depends on.

Invalidation happens in one place: each cache names the models it is computed from, and when a session
commits a change to any of them (a form, an API call, a command or a job), this process drops the cache
at once. Other processes catch up within the time to live."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, Generic, TypeVar

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_caches: weakref.WeakSet[BriefCache[Any, Any]] = weakref.WeakSet()
_CHANGED = "supportdesk.changed_models"


class BriefCache(Generic[K, V]):
    """Each key's value, computed at most once every `seconds` (unless asked for fresh), and dropped when
    a change to one of `depends_on` is committed."""

    def __init__(
        self,
        seconds: float,
        *,
        depends_on: tuple[type, ...] = (),
        maxsize: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.depends_on = depends_on
        self._entries: TTLCache[K, V] = TTLCache(maxsize=maxsize, ttl=seconds, timer=clock)
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, key: K, compute: Callable[[], V], *, fresh: bool = False) -> V:
        if not fresh:
            with self._lock:
                found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                return found  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_MISSING = object()


def forget_all() -> None:
    """Drop every cached value in this process (tests start each case from an empty desk)."""
    for cache in list(_caches):
        cache.clear()


@event.listens_for(Session, "after_flush")
def _note_changed_models(session: Session, _context: Any) -> None:
    changed: set[type] = session.info.setdefault(_CHANGED, set())
    changed.update(type(obj) for obj in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "after_commit")
def _forget_what_changed(session: Session) -> None:
    changed: set[type] = session.info.pop(_CHANGED, set())
    if not changed:
        return
    for cache in list(_caches):
        if any(issubclass(model, cache.depends_on) for model in changed):
            cache.clear()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop(_CHANGED, None)
