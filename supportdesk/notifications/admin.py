"""The mail catcher: admins read every message the desk wrote (sent, waiting or failed), which is how
`make run` shows its mail with no relay set up, and how an operator checks what went out."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from flask import render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from supportdesk.accounts.admin import bp
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.notifications import outbox
from supportdesk.notifications.models import OutboxMessage


@bp.get("/mail")
def mail_page() -> str:
    config = current_config()
    return render_template(
        "admin/mail.html",
        messages=outbox.recent_messages(db.session(), current_user),
        relay=f"{config.smtp_host}:{config.smtp_port}" if config.smtp_host else None,
    )


def _parsed(message_id: int) -> tuple[OutboxMessage, EmailMessage]:
    row = outbox.get_message(db.session(), current_user, message_id)
    parsed = email.message_from_string(row.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return row, parsed


@bp.get("/mail/<id:message_id>")
def mail_message(message_id: int) -> str:
    row, parsed = _parsed(message_id)
    text_part = parsed.get_body(("plain",))
    return render_template(
        "admin/mail_message.html",
        message=row,
        headers=[(name, str(value)) for name, value in parsed.items()],
        text=text_part.get_content() if isinstance(text_part, EmailMessage) else "",
        has_html=parsed.get_body(("html",)) is not None,
    )


@bp.get("/mail/<id:message_id>/html")
def mail_html(message_id: int) -> Response:
    """The HTML part as the recipient's client would show it, in a sandbox: no script, no form, no
    request to anywhere (it is our own template, but it quotes what users wrote)."""
    _, parsed = _parsed(message_id)
    part = parsed.get_body(("html",))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # shown in the admin's own page, nowhere else
    return response
