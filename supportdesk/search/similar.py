"""Tickets like a given one, ranked: the desk's "similar open tickets" (issue 21). The same full-text
machinery as every search (`service.matching_ids`): the most recently raised matches of any of the
ticket's meaningful words, then ranked by how well they match (ts_rank on PostgreSQL, bm25 on SQLite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import NamedFromClause

from supportdesk.search.models import TicketSearchText
from supportdesk.search.service import MAX_MATCHES, MAX_TERMS, PG_DOCUMENT, STOPWORDS, terms


def words_of(subject: str, description: str) -> list[str]:
    """The meaningful words a ticket is about: its subject's first, then its description's."""
    chosen: list[str] = []
    for word in terms(subject) + terms(description[:2000]):
        if word not in STOPWORDS and len(word) > 2 and word not in chosen:
            chosen.append(word)
    return chosen[:MAX_TERMS]


def ranked_matches(session: Session, words: list[str]) -> NamedFromClause | None:
    """(ticket_id, score) of the newest MAX_MATCHES tickets whose text (internal notes included: for the
    desk only) holds any of `words`; a higher score is a better match. None without words."""
    if not words:
        return None
    if session.get_bind().dialect.name == "postgresql":
        query = func.to_tsquery("english", " | ".join(words))
        document: Any = literal_column(PG_DOCUMENT)
        # MATERIALIZED, as in `matching_ids`: the GIN index finds the matches, then the newest are kept.
        return (
            select(TicketSearchText.ticket_id, func.ts_rank(document, query).label("score"))
            .where(document.op("@@")(query))
            .order_by(TicketSearchText.ticket_id.desc())
            .limit(MAX_MATCHES)
            .cte("similar_matches")
            .prefix_with("MATERIALIZED")
        )
    phrase = " OR ".join(f'"{w}"' for w in words)
    fts: Any = text(
        "SELECT rowid AS ticket_id, -bm25(ticket_fts) AS score FROM ticket_fts WHERE ticket_fts MATCH :match "
        "ORDER BY rowid DESC LIMIT :most"
    ).bindparams(match=phrase, most=MAX_MATCHES)
    matches: NamedFromClause = fts.columns(literal_column("ticket_id"), literal_column("score")).subquery(
        "similar_matches"
    )
    return matches
