"""CSV downloads (pages): any report with the filters on screen, and the desk's ticket list with its
view and filters. Both stream: the response starts with the first chunk and holds one batch at a time."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, request, stream_with_context
from flask_login import current_user
from pydantic import ConfigDict

from supportdesk.accounts.models import User
from supportdesk.core.apikit import parse_query
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound
from supportdesk.reports.csv_export import Value, csv_chunks
from supportdesk.reports.filters import ReportFilters, parse_filters
from supportdesk.reports.policy import report_scope
from supportdesk.reports.tables import REPORT_NAMES, Names, ReportTable, one_table
from supportdesk.reports.web import bp, desk_today, desk_zone
from supportdesk.tickets import queues, reads
from supportdesk.tickets.choices import field_choices
from supportdesk.tickets.paging import Sort, TicketFilters, TicketQuery
from supportdesk.tickets.summaries import TicketSummary

TICKET_COLUMNS = (
    "Number",
    "Subject",
    "Status",
    "Priority",
    "Requester",
    "Requester email",
    "Assignee",
    "Team",
    "Category",
    "Created (UTC)",
    "Updated (UTC)",
    "First response (UTC)",
    "Resolved (UTC)",
    "Closed (UTC)",
)


class TicketExportQuery(TicketQuery):
    """The desk's query string (a view narrowed by the list's filters); paging is ignored: all of it."""

    model_config = ConfigDict(extra="ignore")
    view: queues.QueueView = queues.QueueView.UNASSIGNED


def build_report(actor: User, args: dict[str, str], name: str) -> tuple[ReportFilters, ReportTable]:
    """One report for `actor` (ValidationError for bad filters, PermissionDenied outside their teams)."""
    session = db.session()
    filters = parse_filters(args, desk_today())
    scope = report_scope(session, actor, filters)
    choices = field_choices(session)
    names = Names({c.id: c.name for c in choices.teams}, {c.id: c.name for c in choices.categories})
    return filters, one_table(session, scope, filters, desk_zone(), names, name)


def report_csv(table: ReportTable, filters: ReportFilters, *, byte_order_mark: bool) -> Response:
    filename = f"supportdesk-{table.name}-{filters.first_day.isoformat()}-{filters.last_day.isoformat()}.csv"
    return csv_response(csv_chunks(table.columns, table.rows, byte_order_mark=byte_order_mark), filename)


def ticket_row(ticket: TicketSummary) -> tuple[Value, ...]:
    return (
        ticket.number,
        ticket.subject,
        ticket.status,
        ticket.priority,
        ticket.requester.full_name,
        ticket.requester.email,
        ticket.assignee.full_name if ticket.assignee else None,
        ticket.team.name if ticket.team else None,
        ticket.category.name if ticket.category else None,
        ticket.created_at,
        ticket.updated_at,
        ticket.first_response_at,
        ticket.resolved_at,
        ticket.closed_at,
    )


def tickets_csv(actor: User, filters: TicketFilters, sort: Sort, *, byte_order_mark: bool) -> Response:
    def rows() -> Iterator[tuple[Value, ...]]:
        for ticket in reads.iter_tickets(db.session(), actor, filters, sort):
            yield ticket_row(ticket)

    return csv_response(
        csv_chunks(TICKET_COLUMNS, rows(), byte_order_mark=byte_order_mark), "supportdesk-tickets.csv"
    )


def csv_response(chunks: Iterator[str], filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export/<name>.csv")
def export_report(name: str) -> Response:
    if name not in REPORT_NAMES:
        raise NotFound("There is no report of that name.")
    filters, table = build_report(current_user, request.args.to_dict(), name)
    return report_csv(table, filters, byte_order_mark=True)


@bp.get("/tickets.csv")
def export_tickets() -> Response:
    query = parse_query(TicketExportQuery, request.args)
    filters = query.filters(queues.view_filters(query.view))
    return tickets_csv(current_user, filters, query.sort, byte_order_mark=True)
