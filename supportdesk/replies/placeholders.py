"""The placeholders a canned reply may hold, and filling them in. Pure: no I/O.

Written `{{ requester.first_name }}` (spaces optional), as in Zendesk's and Freshdesk's macros; a name
this list does not know is refused when the reply is saved, so a typo never reaches a requester."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Values:
    requester_name: str
    ticket_number: int
    ticket_subject: str
    technician_name: str


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


FIELDS: dict[str, tuple[str, Callable[[Values], str]]] = {
    "requester.name": ("the requester's full name", lambda v: v.requester_name),
    "requester.first_name": ("the requester's first name", lambda v: _first(v.requester_name)),
    "ticket.number": ("the ticket's number, as #1042", lambda v: f"#{v.ticket_number}"),
    "ticket.subject": ("the ticket's subject", lambda v: v.ticket_subject),
    "technician.name": ("your full name", lambda v: v.technician_name),
    "technician.first_name": ("your first name", lambda v: _first(v.technician_name)),
}


def unknown(body: str) -> list[str]:
    """The placeholder names in `body` that do not exist, in order, once each."""
    found = [m.group(1) for m in _PLACEHOLDER.finditer(body) if m.group(1) not in FIELDS]
    return list(dict.fromkeys(found))


def fill(body: str, values: Values) -> str:
    def value(match: re.Match[str]) -> str:
        field = FIELDS.get(match.group(1))
        return match.group(0) if field is None else field[1](values)

    return _PLACEHOLDER.sub(value, body)


def known_list() -> str:
    return ", ".join(f"{{{{ {name} }}}}" for name in FIELDS)
