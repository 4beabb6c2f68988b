"""The technicians' desk: the queue of every ticket."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from supportdesk.db import db
from supportdesk.errors import NotFound
from supportdesk.tickets import policy, service
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.get("/")
@login_required
def home() -> str:
    if not policy.may_use_desk(current_user):
        raise NotFound("This page is for the support desk.")
    page = service.list_tickets(
        db.session(),
        current_user,
        service.TicketFilters(statuses=frozenset(ACTIVE_STATUSES)),
        service.Sort(),
        service.PageRequest(cursor=request.args.get("cursor") or None),
    )
    return render_template("desk/home.html", page=page)
