"""CSV downloads (pages): any report with the filters on screen, and the desk's ticket list with its
view and filters. Both stream: the response starts with the first chunk and holds one batch at a time.
A ticket list longer than a request should stream is offered as a background export instead
(`background.py`): asked for with a POST, watched on its page, downloaded by its owner."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, redirect, render_template, request, send_file, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from supportdesk.accounts.models import User
from supportdesk.core.apikit import parse_query
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound
from supportdesk.reports import background
from supportdesk.reports.csv_export import Value, csv_chunks
from supportdesk.reports.filters import ReportFilters, parse_filters
from supportdesk.reports.policy import report_scope
from supportdesk.reports.tables import REPORT_NAMES, Names, ReportTable, one_table
from supportdesk.reports.ticket_rows import TICKET_COLUMNS, TicketExportQuery, query_values, ticket_row
from supportdesk.reports.web import bp, desk_today, desk_zone
from supportdesk.tickets import queues, whole_lists
from supportdesk.tickets.choices import field_choices
from supportdesk.tickets.paging import Sort, TicketFilters


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


def tickets_csv(actor: User, filters: TicketFilters, sort: Sort, *, byte_order_mark: bool) -> Response:
    def rows() -> Iterator[tuple[Value, ...]]:
        for ticket in whole_lists.iter_ticket_rows(db.session(), actor, filters, sort):
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
def export_tickets() -> Response | str:
    query = parse_query(TicketExportQuery, request.args)
    filters = query.filters(queues.view_filters(query.view))
    if background.is_long(db.session(), current_user, filters):
        return render_template(
            "reports/export_offer.html", query=query_values(request.args), limit=background.STREAM_LIMIT
        )
    return tickets_csv(current_user, filters, query.sort, byte_order_mark=True)


@bp.post("/exports")
def request_export() -> ResponseReturnValue:
    with db.transaction() as session:
        export_id = background.request_export(session, current_user, query_values(request.form)).id
    return redirect(url_for("reports.export_status", export_id=export_id), code=303)


@bp.get("/exports/<id:export_id>")
def export_status(export_id: int) -> str:
    export = background.read_export(db.session(), current_user, export_id)
    return render_template("reports/export.html", export=export, kept_days=background.KEPT_FOR.days)


@bp.get("/exports/<id:export_id>.csv")
def download_export(export_id: int) -> Response:
    path = background.ready_file(db.session(), current_user, export_id)
    response = send_file(
        path, mimetype="text/csv", as_attachment=True, download_name="supportdesk-tickets.csv"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
