"""GET /api/v1/admin/audit: the admin audit log, newest first, a page at a time (admins)."""

from __future__ import annotations

from flask import Response

from supportdesk.accounts import audit_reads
from supportdesk.accounts.audit_schemas import AuditEntryOut, AuditList, AuditQuery
from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db


@registry.route(
    bp,
    "/admin/audit",
    "GET",
    summary="The admin audit log, newest first: filter by actor, action, target, days; page with `before`",
    tag="Audit log",
    query=AuditQuery,
    responses={200: AuditList},
)
def list_audit_entries(query: AuditQuery) -> Response:
    page = audit_reads.audit_page(db.session(), current_actor(), query)
    items = [
        AuditEntryOut(
            id=row.id,
            created_at=row.created_at,
            actor_id=row.actor_id,
            actor=row.actor_label,
            ip=row.ip,
            user_agent=row.user_agent,
            via=row.via,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            target=row.target_label,
            before=row.before,
            after=row.after,
        )
        for row in page.rows
    ]
    return json_response(
        AuditList(items=items, next_before=page.next_before), headers={"Cache-Control": "no-store"}
    )
