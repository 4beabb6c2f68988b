"""The rules of a rating, pure (no I/O, no clock): what a rating is, which resolution of a ticket may be
rated, and for how long a rating may still be changed."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.core.errors import FieldError
from supportdesk.tickets.lifecycle import DONE_STATUSES, Status


class Score(enum.StrEnum):
    GOOD = "good"
    BAD = "bad"

    @property
    def label(self) -> str:
        return "Good" if self is Score.GOOD else "Bad"


# A rating may be changed for a week after it was first given (issue 21), then it stands.
CHANGE_WINDOW = timedelta(days=7)
# How long the resolution email's links work: long enough for a holiday, short enough that an old mail
# found in an archive no longer speaks for the requester.
LINK_VALID_FOR = timedelta(days=30)
COMMENT_MAX = 2000


@dataclass(frozen=True)
class StatusChange:
    """One status event of a ticket: its id, the status it moved to, when."""

    id: int
    new_value: str | None
    created_at: datetime


def current_resolution(status: Status, changes: Sequence[StatusChange]) -> StatusChange | None:
    """The resolution a rating of the ticket now is about: the change that moved it from active work to
    resolved (or closed), provided it is still resolved or closed. A resolved ticket that is later closed
    keeps that resolution; one reopened has none until it is resolved again, which is a new resolution
    with a rating of its own. `changes` in the order they happened."""
    if status not in DONE_STATUSES:
        return None
    done_values = {s.value for s in DONE_STATUSES}
    found: StatusChange | None = None
    for change in reversed(changes):
        if change.new_value not in done_values:
            break
        found = change
    return found


def changeable_until(first_given_at: datetime) -> datetime:
    return first_given_at + CHANGE_WINDOW


def change_refusal(first_given_at: datetime, now: datetime) -> str | None:
    """Why a rating given at `first_given_at` may no longer be changed, or None."""
    if now > changeable_until(first_given_at):
        return f"A rating can be changed for {CHANGE_WINDOW.days} days after it is given; this one stands."
    return None


def parse_score(raw: object) -> Score | FieldError:
    if isinstance(raw, str):
        try:
            return Score(raw.strip().lower())
        except ValueError:
            pass
    return FieldError("score", "Choose good or bad.")


def clean_comment(raw: object) -> str | FieldError | None:
    """The optional comment, trimmed; None when empty."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        return FieldError("comment", "must be text")
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX:
        return FieldError("comment", f"must be at most {COMMENT_MAX} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        return FieldError("comment", "contains characters that are not text")
    return text or None
