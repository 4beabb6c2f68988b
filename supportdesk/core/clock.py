"""The current time, as the services see it. Demo data and tests can set it for a block of code;
everything else gets the real UTC time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from supportdesk.core.db import utcnow

_fixed: ContextVar[datetime | None] = ContextVar("supportdesk_clock", default=None)


def now() -> datetime:
    return _fixed.get() or utcnow()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError("the clock runs on aware UTC times")
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)
