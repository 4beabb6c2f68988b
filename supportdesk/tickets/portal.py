"""The requester's pages: the tickets they raised."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from supportdesk.db import db
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, DONE_STATUSES

bp = Blueprint("portal", __name__, url_prefix="/portal")

TABS = {"open": ACTIVE_STATUSES, "closed": DONE_STATUSES}


@bp.get("/")
@login_required
def home() -> str:
    tab = request.args.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    page = service.list_tickets(
        db.session(),
        current_user,
        service.TicketFilters(statuses=frozenset(TABS[tab]), requester_id=current_user.id),
        service.Sort(),
        service.PageRequest(cursor=request.args.get("cursor") or None),
    )
    return render_template("portal/home.html", page=page, tab=tab)
