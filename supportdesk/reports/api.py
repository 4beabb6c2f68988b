"""The reports through the API: every figure as JSON, any one report as CSV, and a ticket list as CSV
with the list's filters; the same policy and tables as the pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from flask import Response
from pydantic import BeforeValidator, Field

from supportdesk.accounts.policy import require_desk_member
from supportdesk.core.apikit import Schema, bp, current_actor, json_response, registry
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.reports.calendar import Granularity
from supportdesk.reports.exports import build_report, report_csv, tickets_csv
from supportdesk.reports.filters import parse_filters
from supportdesk.reports.policy import report_scope
from supportdesk.reports.tables import REPORT_NAMES, Cell, Names, ReportTable, all_tables
from supportdesk.reports.web import desk_today, desk_zone
from supportdesk.tickets.choices import field_choices
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.paging import AssigneeParam, OptionalId, SearchText, Sort, SortParam, TicketQuery

TAG = "Reports"
ReportName = Literal[
    "volume",
    "backlog-status",
    "backlog-team",
    "times",
    "service-levels-team",
    "service-levels-category",
    "service-levels-technician",
    "technicians",
    "categories",
    "satisfaction-team",
    "satisfaction-category",
    "satisfaction-technician",
]


def _blank_is_absent(value: object) -> object:
    return None if value == "" else value


class ReportQuery(Schema):
    """A date range of the desk's calendar (default: the last four weeks), day or week periods, and the
    filters every figure takes."""

    model_config = Schema.model_config | {"populate_by_name": True}
    first_day: Annotated[date | None, BeforeValidator(_blank_is_absent)] = Field(
        None, alias="from", description="First day (the desk's calendar), ISO 8601."
    )
    last_day: Annotated[date | None, BeforeValidator(_blank_is_absent)] = Field(
        None, alias="to", description="Last day, included; at most 366 days after the first."
    )
    by: Annotated[Granularity | None, BeforeValidator(_blank_is_absent)] = None
    team: OptionalId = None
    category: OptionalId = None
    priority: Annotated[Priority | None, BeforeValidator(_blank_is_absent)] = None

    def as_args(self) -> dict[str, str]:
        values = {
            "from": self.first_day,
            "to": self.last_day,
            "by": self.by,
            "team": self.team,
            "category": self.category,
            "priority": self.priority,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


class ReportExportQuery(ReportQuery):
    report: Annotated[ReportName | None, BeforeValidator(_blank_is_absent)] = Field(
        None, description="Which report (required)."
    )


class ReportOut(Schema):
    name: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]


class ReportsOut(Schema):
    time_zone: str = Field(description="The desk's calendar: days start at midnight in this zone.")
    filters: dict[str, str]
    reports: list[ReportOut]


class TicketExportQuery(Schema):
    """A ticket list's filters (as GET /api/v1/tickets takes them), every page of it."""

    status: Annotated[list[Status], BeforeValidator(_blank_is_absent)] = Field(default_factory=list)
    priority: Annotated[list[Priority], BeforeValidator(_blank_is_absent)] = Field(default_factory=list)
    assignee: AssigneeParam = None
    requester: OptionalId = None
    team: OptionalId = None
    category: OptionalId = None
    q: SearchText = None
    sort: SortParam = Sort()


def _out(table: ReportTable) -> ReportOut:
    return ReportOut(name=table.name, caption=table.caption, columns=table.columns, rows=table.rows)


@registry.route(
    bp,
    "/reports",
    "GET",
    summary="Every report's figures (technicians: their own teams)",
    tag=TAG,
    query=ReportQuery,
    responses={200: ReportsOut},
)
def reports(query: ReportQuery) -> Response:
    session, actor = db.session(), current_actor()
    require_desk_member(actor)  # before the filters: a requester learns nothing from a 422
    filters = parse_filters(query.as_args(), desk_today())
    scope = report_scope(session, actor, filters)
    choices = field_choices(session)
    names = Names({c.id: c.name for c in choices.teams}, {c.id: c.name for c in choices.categories})
    tables = all_tables(session, scope, filters, desk_zone(), names)
    return json_response(
        ReportsOut(
            time_zone=current_config().desk_timezone,
            filters=filters.query(),
            reports=[_out(table) for table in tables],
        )
    )


@registry.route(
    bp,
    "/reports/export",
    "GET",
    summary="One report as CSV (cells that start like a formula are neutralised)",
    tag=TAG,
    query=ReportExportQuery,
    responses={200: None},
    produces="text/csv",
)
def export_report(query: ReportExportQuery) -> Response:
    actor = current_actor()
    require_desk_member(actor)
    if query.report is None:
        raise ValidationError.single("report", f"name one of {', '.join(REPORT_NAMES)}")
    filters, table = build_report(actor, query.as_args(), query.report)
    return report_csv(table, filters, byte_order_mark=False)


@registry.route(
    bp,
    "/tickets/export",
    "GET",
    summary="A ticket list as CSV, every page of it, streamed (the desk)",
    tag="Tickets",
    query=TicketExportQuery,
    responses={200: None},
    produces="text/csv",
)
def export_tickets(query: TicketExportQuery) -> Response:
    actor = current_actor()
    require_desk_member(actor)
    listing = TicketQuery(**query.model_dump())
    return tickets_csv(actor, listing.filters(), listing.sort, byte_order_mark=False)
