"""Downloading an attachment: through the ticket's permission, as a download unless it is an image
whose bytes were recognised, never sniffed by the browser."""

from __future__ import annotations

from flask import Blueprint, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from supportdesk.attachments import service
from supportdesk.attachments.web import file_store
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound
from supportdesk.tickets import reads

bp = Blueprint("attachments", __name__)


@bp.get("/tickets/<id:number>/attachments/<id:attachment_id>")
@login_required
def download(number: int, attachment_id: int) -> Response:
    session = db.session()
    ticket = reads.read_ticket(session, current_user, number)
    attachment = service.get_attachment(session, current_user, ticket.id, attachment_id)
    path = file_store().storage.path_for(attachment.storage_key)
    if not path.is_file():
        raise NotFound("This file is no longer stored.")
    inline = attachment.is_inline_image and request.args.get("inline") == "1"
    response = send_file(
        path,
        mimetype=attachment.content_type if attachment.is_inline_image else "application/octet-stream",
        as_attachment=not inline,
        download_name=attachment.filename,
        max_age=0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
