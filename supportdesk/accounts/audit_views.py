"""The admin audit log's page (Admin → Audit log) and its CSV export, with the same filters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from supportdesk.accounts import audit_reads
from supportdesk.accounts.admin import bp
from supportdesk.accounts.audit import ACTIONS
from supportdesk.accounts.audit_schemas import AuditQuery
from supportdesk.core.apikit import parse_query
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.reports.csv_export import Value, csv_chunks
from supportdesk.reports.exports import csv_response

FILTERS = ("actor", "action", "target", "since", "until")  # kept in the links to other pages and the export
EXPORT_COLUMNS = (
    "id",
    "time (UTC)",
    "actor",
    "actor id",
    "IP address",
    "user agent",
    "via",
    "action",
    "target type",
    "target id",
    "target",
    "before",
    "after",
)


def _query() -> tuple[AuditQuery, list[str]]:
    """The filters in the query string (empty fields left out), or none and what was wrong with them."""
    given = MultiDict([(k, v) for k, v in request.args.items(multi=True) if v.strip()])
    try:
        return parse_query(AuditQuery, given), []
    except ValidationError as error:
        return AuditQuery(), [f"{e.field}: {e.message}" if e.field else e.message for e in error.errors]


@bp.get("/audit")
def audit_log() -> tuple[str, int]:
    query, problems = _query()
    page = audit_reads.audit_page(db.session(), current_user, query)
    return render_template(
        "admin/audit.html",
        page=page,
        query=query,
        actions=ACTIONS,
        problems=problems,
        args={k: v for k, v in request.args.items() if k in FILTERS and v.strip()},
    ), (422 if problems else 200)


@bp.get("/audit.csv")
def export_audit_log() -> Response | tuple[str, int]:
    query, problems = _query()
    if problems:
        return audit_log()
    entries = audit_reads.every_entry(db.session(), current_user, query)
    return csv_response(
        csv_chunks(EXPORT_COLUMNS, _rows(entries), byte_order_mark=True), "supportdesk-audit.csv"
    )


def _rows(entries: Iterator[audit_reads.AuditRow]) -> Iterator[tuple[Value, ...]]:
    for entry in entries:
        yield (
            entry.id,
            entry.created_at,
            entry.actor_label,
            entry.actor_id,
            entry.ip,
            entry.user_agent,
            entry.via,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_label,
            _json(entry.before),
            _json(entry.after),
        )


def _json(values: dict[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)
