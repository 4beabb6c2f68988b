"""Live markdown preview for the description and reply boxes (htmx posts the text here)."""

from __future__ import annotations

from flask import render_template_string, request
from flask_login import login_required

from supportdesk.tickets.models import DESCRIPTION_MAX


@login_required
def markdown_preview() -> str:
    text = (request.form.get("description") or request.form.get("body") or "")[:DESCRIPTION_MAX]
    if not text.strip():
        return '<p class="text-body-secondary mb-0">Nothing to preview yet.</p>'
    return render_template_string("{{ text | markdown }}", text=text)
