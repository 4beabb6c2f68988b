"""The reports page (technicians and admins): parse the filters, ask the policy for the reader's scope,
build the tables, render. Bad filters keep the form with each field's error (422)."""

from __future__ import annotations

from datetime import date
from functools import cache
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from supportdesk.core import clock
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.reports.calendar import Granularity
from supportdesk.reports.filters import MAX_DAYS, default_filters, parse_filters
from supportdesk.reports.policy import ReportScope, may_see_reports, report_scope
from supportdesk.reports.tables import Names, all_tables
from supportdesk.tickets.choices import field_choices
from supportdesk.tickets.lifecycle import Priority

bp = Blueprint("reports", __name__, url_prefix="/reports")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def desk_zone() -> ZoneInfo:
    return _zone(current_config().desk_timezone)


def desk_today() -> date:
    return clock.now().astimezone(desk_zone()).date()


@bp.before_request
@login_required
def _desk_only() -> None:
    if not may_see_reports(current_user):
        raise NotFound("This page is for the support desk.")


@bp.get("/")
def home() -> tuple[str, int]:
    session = db.session()
    today = desk_today()
    args = request.args.to_dict()
    choices = field_choices(session)
    try:
        filters = parse_filters(args, today)
    except ValidationError as error:
        scope = report_scope(session, current_user)
        return _page(scope, choices, args, [], error, default_filters(today)), 422
    scope = report_scope(session, current_user, filters)
    names = Names({c.id: c.name for c in choices.teams}, {c.id: c.name for c in choices.categories})
    tables = all_tables(session, scope, filters, desk_zone(), names)
    return _page(scope, choices, {**args, **filters.query()}, tables, None, filters), 200


def _page(scope: ReportScope, choices, args, tables, error, filters) -> str:  # type: ignore[no-untyped-def]
    return render_template(
        "reports/home.html",
        tables=tables,
        error=error,
        args=args,
        filters=filters,
        teams=[team for team in choices.teams if scope.allows_team(team.id)],
        categories=choices.categories,
        priorities=list(Priority),
        granularities=list(Granularity),
        zone=current_config().desk_timezone,
        max_days=MAX_DAYS,
    )
