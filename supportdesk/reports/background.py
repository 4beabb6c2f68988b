"""Ticket lists too long to stream within one request: a request of the desk's query string becomes a
row and a job; the job writes the CSV to a file (the same columns and neutralised cells as a streamed
download), then tells its owner. Only the person who asked may read it; files go after a week.

A streamed download holds a web worker for as long as it runs, and a sync worker that goes quiet for
the worker timeout (30 s) is killed: at the measured ~20,000 rows/s a list of `STREAM_LIMIT` rows
takes about 5 s, well inside it, and longer lists go here."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.config import Config, current_config
from supportdesk.core.db import after_commit, db, get_by_id
from supportdesk.core.errors import NotFound
from supportdesk.notifications.models import Notification, NotificationKind
from supportdesk.reports.csv_export import Value, csv_chunks
from supportdesk.reports.models import ExportStatus, TicketExport
from supportdesk.reports.policy import may_see_reports
from supportdesk.reports.ticket_rows import TICKET_COLUMNS, parse_list_query, ticket_row
from supportdesk.tickets import queues, whole_lists
from supportdesk.tickets.paging import TicketFilters

STREAM_LIMIT = 100_000
KEPT_FOR = timedelta(days=7)


@dataclass(frozen=True)
class ExportRow:
    id: int
    status: ExportStatus
    rows: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    query: dict[str, list[str]]


def is_long(session: Session, actor: User, filters: TicketFilters) -> bool:
    """Whether the list has more than STREAM_LIMIT tickets (counted no further than that)."""
    return whole_lists.count_tickets(session, actor, filters, up_to=STREAM_LIMIT) > STREAM_LIMIT


def request_export(session: Session, actor: User, query: dict[str, list[str]]) -> TicketExport:
    """Queue the export of the list the desk's query string describes (checked here: a ValidationError
    for a bad one); the job starts once this unit of work commits."""
    if not may_see_reports(actor):
        raise NotFound("This page is for the support desk.")
    parse_list_query(MultiDict(query))
    export = TicketExport(user_id=actor.id, query=query, file_name=f"{secrets.token_hex(16)}.csv")
    session.add(export)
    session.flush()
    export_id = export.id
    after_commit(session, lambda: _enqueue(export_id))
    return export


def _enqueue(export_id: int) -> None:
    from supportdesk.jobs.tasks import export_ticket_list  # the jobs import this module

    export_ticket_list(export_id)


def read_export(session: Session, actor: User, export_id: int) -> ExportRow:
    """One export of `actor`'s own (NotFound for anyone else's, or one purged)."""
    export = get_by_id(session, TicketExport, export_id)
    if export is None or export.user_id != actor.id:
        raise NotFound("There is no such export.")
    return ExportRow(
        export.id,
        export.status,
        export.rows,
        export.error,
        export.created_at,
        export.finished_at,
        dict(export.query),
    )


def ready_file(session: Session, actor: User, export_id: int) -> Path:
    export = get_by_id(session, TicketExport, export_id)
    if export is None or export.user_id != actor.id:
        raise NotFound("There is no such export.")
    path = file_path(current_config(), export)
    if export.status is not ExportStatus.READY or not path.exists():
        raise NotFound("This export is not ready.")
    return path


def exports_folder(config: Config) -> Path:
    # Beside the attachments: the folder every app machine shares (NFS in a multi-VM install), so the
    # worker that writes a file and the app process that serves it need not be on the same machine.
    return config.attachments_path / "exports"


def file_path(config: Config, export: TicketExport) -> Path:
    return exports_folder(config) / export.file_name


def run_export(export_id: int) -> int:
    """The job: write the list to its file (a part file renamed when complete, so a crash leaves no
    half file behind a "ready"), then mark it ready and tell its owner, in one unit of work."""

    session = db.session()
    export = get_by_id(session, TicketExport, export_id)
    if export is None or export.status is not ExportStatus.QUEUED:
        return 0  # purged, or done by an earlier attempt
    user = get_by_id(session, User, export.user_id)
    query = parse_list_query(MultiDict(export.query))
    filters = query.filters(queues.view_filters(query.view))
    config = current_config()
    folder = exports_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    target = file_path(config, export)
    partial = target.with_suffix(".part")
    count = 0
    allowed = user is not None and user.is_active and may_see_reports(user)

    def rows() -> Iterator[tuple[Value, ...]]:
        nonlocal count
        for ticket in whole_lists.iter_ticket_rows(session, user, filters, query.sort):  # type: ignore[arg-type]
            count += 1
            yield ticket_row(ticket)

    if allowed:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for chunk in csv_chunks(TICKET_COLUMNS, rows(), byte_order_mark=True):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    session.rollback()  # the reading transaction; the outcome is written in a unit of work of its own
    with db.transaction() as writing:
        export = get_by_id(writing, TicketExport, export_id)
        if export is None:
            return 0
        export.finished_at = clock.now()
        if not allowed:
            export.status, export.error = ExportStatus.FAILED, "The account may no longer read the desk."
            return 0
        export.status, export.rows = ExportStatus.READY, count
        writing.add(
            Notification(
                user_id=export.user_id,
                export_id=export.id,
                kind=NotificationKind.EXPORT_READY,
                title=f"Your export of {count:,} tickets is ready",
                excerpt="The ticket list you asked for, as CSV: open this to download it (kept a week).",
            )
        )
    return count


def purge_old_exports() -> int:
    """Remove the files and rows of exports older than KEPT_FOR; how many went."""
    config = current_config()
    with db.transaction() as session:
        old = session.scalars(
            select(TicketExport).where(TicketExport.created_at < clock.now() - KEPT_FOR)
        ).all()
        for export in old:
            file_path(config, export).unlink(missing_ok=True)
            file_path(config, export).with_suffix(".part").unlink(missing_ok=True)
            session.delete(export)
        return len(old)
