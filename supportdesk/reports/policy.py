"""Who sees which figures: admins the whole desk; technicians the tickets of their own teams (a team
lead's report must not show another team's workload, nor a ticket no team has yet); nobody else any.
Every figure is read through the scope this returns, so the rule lives here only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User, team_members
from supportdesk.accounts.policy import may_use_desk
from supportdesk.core.db import read_rows
from supportdesk.core.errors import PermissionDenied
from supportdesk.reports.filters import ReportFilters
from supportdesk.tickets.models import Ticket


@dataclass(frozen=True)
class ReportScope:
    teams: frozenset[int] | None  # the teams whose tickets count; None for every ticket

    def clause(self) -> ColumnElement[bool]:
        if self.teams is None:
            return true()
        if not self.teams:
            return false()
        return Ticket.team_id.in_(sorted(self.teams))

    def allows_team(self, team_id: int) -> bool:
        return self.teams is None or team_id in self.teams


def may_see_reports(actor: User) -> bool:
    return may_use_desk(actor)


def report_scope(session: Session, actor: User, filters: ReportFilters | None = None) -> ReportScope:
    """The tickets `actor`'s figures are computed from; refuses a team filter outside them."""
    if not may_see_reports(actor):
        raise PermissionDenied("Reports are for the desk's technicians and admins.")
    if actor.is_admin:
        scope = ReportScope(None)
    else:
        mine = select(team_members.c.team_id).where(team_members.c.user_id == actor.id)
        scope = ReportScope(frozenset(read_rows(session, mine).scalars()))
    if filters is not None and filters.team_id is not None and not scope.allows_team(filters.team_id):
        raise PermissionDenied("You see the reports of your own teams only.", fields=("team",))
    return scope
