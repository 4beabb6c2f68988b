"""Every ticket change writes an audit event (tickets/changes.py); these session hooks collect the new
events of a unit of work and turn them into notifications just before it commits, whichever face,
command or job made the change. A rolled-back unit of work notifies nobody."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from supportdesk.core.db import APP_KEY
from supportdesk.tickets.models import TicketEvent

_COLLECTED = "supportdesk.notifications.events"
# Set on a session to notify nobody: the demo's made-up history, which nobody is waiting to hear of.
QUIET = "supportdesk.notifications.quiet"


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    if session.info.get(QUIET):
        return
    new = [obj for obj in session.new if isinstance(obj, TicketEvent)]
    if new:
        session.info.setdefault(_COLLECTED, []).extend(new)


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    if session.info.get(QUIET):
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # so events still pending are collected now, not left for the next commit
    events: list[TicketEvent] | None = session.info.pop(_COLLECTED, None)
    if not events:
        return
    from supportdesk.notifications import notify

    app: Flask | None = session.info.get(APP_KEY)
    if app is None:
        return
    if has_app_context():
        notify.notify(session, app.config["SUPPORTDESK"], events)
    else:
        with app.app_context():
            notify.notify(session, app.config["SUPPORTDESK"], events)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_COLLECTED, None)
