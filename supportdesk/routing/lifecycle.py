"""The rules of routing and automatic assignment. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from supportdesk.routing.models import AssignmentMode

MAX_KEYWORDS = 30


@dataclass(frozen=True)
class Rule:
    id: int
    category_id: int | None
    keywords: tuple[str, ...]  # lower-case
    team_id: int

    def matches(self, subject: str, category_id: int | None) -> bool:
        if self.category_id is not None and self.category_id != category_id:
            return False
        if self.keywords:
            words = subject.casefold()
            return any(_contains_word(words, keyword) for keyword in self.keywords)
        return True


def _contains_word(text: str, keyword: str) -> bool:
    """The keyword as a word or phrase of its own ("vpn" in "the VPN drops", not in "avpnx")."""
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text) is not None


def keywords_of(text: str) -> tuple[str, ...]:
    """ "VPN, wifi ,, Wi-Fi" -> ("vpn", "wifi", "wi-fi"): comma-separated, trimmed, lower-case, no repeats."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        word = " ".join(part.split()).casefold()
        if word:
            seen.setdefault(word, None)
    return tuple(seen)


def route(rules: Sequence[Rule], subject: str, category_id: int | None) -> int | None:
    """The team of the first rule (in the admins' order) that matches; None when none does."""
    return next((rule.team_id for rule in rules if rule.matches(subject, category_id)), None)


@dataclass(frozen=True)
class Candidate:
    user_id: int
    open_tickets: int


def choose_assignee(
    mode: AssignmentMode, candidates: Sequence[Candidate], max_open: int | None, last_user_id: int | None
) -> int | None:
    """Who gets the ticket among the available members (None: nobody has room, or assignment is off).
    Round-robin: the next member after the last one given a ticket (by id, wrapping round); least
    loaded: the fewest open tickets, the lowest id on a tie."""
    room = sorted(
        (c for c in candidates if max_open is None or c.open_tickets < max_open), key=lambda c: c.user_id
    )
    if mode is AssignmentMode.OFF or not room:
        return None
    if mode is AssignmentMode.ROUND_ROBIN:
        after = [c for c in room if last_user_id is not None and c.user_id > last_user_id]
        return (after or room)[0].user_id
    return min(room, key=lambda c: (c.open_tickets, c.user_id)).user_id
