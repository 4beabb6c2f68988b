"""Keeping the search text current, and turning a user's words into a query scoped to what they
may read. Every ticket listing with a text box goes through `matching_tickets`."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, literal_column, or_, select, text
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.search.models import TicketSearchText
from supportdesk.tickets.models import Ticket

MAX_TERMS = 8
# A name or an address names a few people; a query naming more is not about a person.
MAX_PEOPLE = 50
SEARCH_ADDRESS_MAX = 254
# A search looks at the most recently raised matches only (as Zendesk caps results at 1,000): a word
# found in every ticket then costs what a rare one does, and nobody pages past a thousand hits.
MAX_MATCHES = 1000
_WORD = re.compile(r"\w+", re.UNICODE)
# Only for "any of these words" suggestions, where a common word would match everything.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "was",
        "we",
        "when",
        "with",
        "you",
        "your",
    ]
)

# The generated column under the GIN index (migration 0006): public text has weight A, internal notes D.
PG_DOCUMENT = "ticket_search.search_document"


def terms(query: str) -> list[str]:
    """The words of a query, lower-cased; punctuation and operators are dropped, so no input can
    break the query syntax of either database."""
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def index_new_ticket(session: Session, ticket: Ticket) -> None:
    """The new (flushed) ticket's search row, inserted at once: a plain INSERT costs a fraction of the
    ORM flush it took at commit, on every ticket raised."""
    values = {"ticket_id": ticket.id, "public_text": _ticket_text(ticket), "internal_text": ""}
    session.connection().execute(_NEW_SEARCH_TEXT, values)


_NEW_SEARCH_TEXT = insert(TicketSearchText)


def reindex_public_text(session: Session, ticket: Ticket) -> None:
    """After the subject changes: rebuild the public part from the ticket and its public replies."""
    # No autoflush: flushing the half-changed ticket here would write it twice (and bump its version twice).
    with session.no_autoflush:
        bodies = [c.body for c in ticket.comments if not c.internal]
        row = session.get(TicketSearchText, ticket.id)
    if row is not None:
        row.public_text = "\n".join([_ticket_text(ticket), *bodies])


def index_comment(session: Session, ticket: Ticket, body: str, *, internal: bool) -> None:
    with session.no_autoflush:
        row = session.get(TicketSearchText, ticket.id)
    if row is None:
        return
    if internal:
        row.internal_text = f"{row.internal_text}\n{body}".strip()
    else:
        row.public_text = f"{row.public_text}\n{body}".strip()


def matching_tickets(
    session: Session, actor: User, query: str, *, any_word: bool = False
) -> ColumnElement[bool]:
    """A WHERE clause on Ticket: the ticket's text matches every word (the last as a prefix, so it
    works while typing), or with `any_word` any of its meaningful words. Requesters match only text
    they can read."""
    ids = matching_ids(session, actor, query, any_word=any_word)
    if ids is None:
        return Ticket.id.is_(None)  # nothing to search for matches nothing
    return Ticket.id.in_(ids)


def matching_people(query: str) -> Select[Any] | None:
    """The ids of (at most MAX_PEOPLE) users a query names: an address (or its beginning) when it holds
    an @, else users whose name has a word starting with each word of the query, or whose address
    starts with it. None when the query has no words."""
    text = query.strip().lower()
    if "@" in text:
        address = _like_escape(text[:SEARCH_ADDRESS_MAX])
        return select(User.id).where(User.email.like(f"{address}%", escape="\\")).limit(MAX_PEOPLE)
    words = terms(text)
    if not words:
        return None
    name = func.lower(User.full_name)
    clauses = [
        or_(
            name.like(f"{_like_escape(w)}%", escape="\\"),
            name.like(f"% {_like_escape(w)}%", escape="\\"),
            User.email.like(f"{_like_escape(w)}%", escape="\\"),
        )
        for w in words
    ]
    return select(User.id).where(*clauses).limit(MAX_PEOPLE)


def matching_ids(session: Session, actor: User, query: str, *, any_word: bool = False) -> Select[Any] | None:
    """The ids of the (at most MAX_MATCHES) most recently raised tickets whose text matches (see
    `matching_tickets`); None when the query has no words to look for."""
    words = terms(query)
    if any_word:
        words = [w for w in words if w not in STOPWORDS and len(w) > 2]
    if not words:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # Requesters ask for weight A only: a word that appears only in internal notes never matches.
        weight = "" if actor.is_staff else "A"
        tsquery = (" | " if any_word else " & ").join(
            [*(f"{w}:{weight}" if weight else w for w in words[:-1]), f"{words[-1]}:*{weight}"]
        )
        # MATERIALIZED: find every match through the GIN index first, then keep the newest. Left to
        # itself the planner walks tickets (or the search rows) in order and tests each document in turn:
        # a tenth of a million rows for a word in 1% of tickets.
        matches = (
            select(TicketSearchText.ticket_id)
            .where(literal_column(PG_DOCUMENT).op("@@")(func.to_tsquery("english", tsquery)))
            .cte("text_matches")
            .prefix_with("MATERIALIZED")
        )
        return select(matches.c.ticket_id).order_by(matches.c.ticket_id.desc()).limit(MAX_MATCHES)
    phrase = (" OR " if any_word else " ").join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
    match = phrase if actor.is_staff else f"{{public_text}} : ({phrase})"
    fts_ids = text(
        "SELECT rowid AS ticket_id FROM ticket_fts WHERE ticket_fts MATCH :match "
        "ORDER BY rowid DESC LIMIT :most"
    ).bindparams(match=match, most=MAX_MATCHES)
    fts_matches = fts_ids.columns(literal_column("ticket_id")).subquery("text_matches")
    return select(fts_matches.c.ticket_id)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ticket_text(ticket: Ticket) -> str:
    return f"{ticket.subject}\n{ticket.description}"
