"""The names the desk's pickers offer (assignees, teams, categories), kept briefly per process.

A page shows a copy up to CHOICES_TTL_SECONDS old, dropped as soon as this process commits a change to a
user, team or category; a change someone submits is checked against fresh names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Team, User
from supportdesk.core.caching import BriefCache
from supportdesk.tickets import policy
from supportdesk.tickets.models import Category
from supportdesk.tickets.summaries import Choice

CHOICES_TTL_SECONDS = 10.0


@dataclass(frozen=True)
class FieldChoices:
    """What a ticket's assignee, team and category may be set to, by name."""

    staff: list[Choice]
    teams: list[Choice]
    categories: list[Choice]

    def names(self) -> dict[tuple[str, str], str]:
        """Display names for the ids the audit trail records."""
        return {
            **{("assignee", str(c.id)): c.name for c in self.staff},
            **{("team", str(c.id)): c.name for c in self.teams},
            **{("category", str(c.id)): c.name for c in self.categories},
        }


_choices: BriefCache[int, FieldChoices] = BriefCache(CHOICES_TTL_SECONDS, depends_on=(User, Team, Category))


def field_choices(session: Session, *, fresh: bool = False) -> FieldChoices:
    """Every assignable user, team and category (retired ones too: old tickets still name them)."""
    return _choices.get(id(session.get_bind()), lambda: _read_field_choices(session), fresh=fresh)


def _read_field_choices(session: Session) -> FieldChoices:
    """One statement; rows are plain tuples."""
    kind: ColumnElement[str] = literal_column("kind")
    rows = session.execute(
        union_all(
            select(literal("staff").label("kind"), User.id, User.full_name.label("name")).where(
                policy.assignable_users()
            ),
            select(literal("team").label("kind"), Team.id, Team.name.label("name")),
            select(literal("category").label("kind"), Category.id, Category.name.label("name")),
        ).order_by(kind, literal_column("name"))
    )
    found: dict[str, list[Choice]] = {"staff": [], "team": [], "category": []}
    for row_kind, row_id, name in rows:
        found[row_kind].append(Choice(row_id, name))
    return FieldChoices(staff=found["staff"], teams=found["team"], categories=found["category"])
