"""Mail addresses and the one rule for text that goes into a header line."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Dots, hyphens and the like are fine; whitespace, brackets, quotes, commas and controls are not (they
# would need quoting, and nobody's mailbox needs them).
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: `address` is the addr-spec (`paul@example.com`), `name` the display name or ""."""

    address: str
    name: str = ""


def is_plain_address(address: str) -> bool:
    """An ASCII `local@domain` with nothing in it that a header would have to quote or could break on."""
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


def header_text(text: str) -> str:
    """Text safe for one header line: control characters, line and paragraph separators and lone
    surrogates become spaces, runs of whitespace one space. Never raises."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") else c for c in text if c != "\ufeff"
    )
    return _SPACES.sub(" ", cleaned).strip()
