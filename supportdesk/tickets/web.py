"""What the ticket pages share: the configured life-cycle rules and the badges templates show."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from markupsafe import Markup

from supportdesk.core.config import current_config
from supportdesk.tickets.lifecycle import REQUESTER_STATUS_HINTS, REQUESTER_STATUS_LABELS, Priority, Status
from supportdesk.tickets.service import DeskRules


def desk_rules() -> DeskRules:
    config = current_config()
    return DeskRules(
        reopen_window=timedelta(days=config.reopen_window_days),
        auto_close_after=timedelta(days=config.auto_close_days),
    )


def status_badge(status: Status) -> Markup:
    # Enum values and labels are ours, never user text.
    return Markup(f'<span class="badge sd-status sd-status-{status.value}">{status.label}</span>')  # noqa: S704


def requester_status_badge(status: Status) -> Markup:
    """The status as the requester reads it ("Awaiting your reply", not "Pending")."""
    label = REQUESTER_STATUS_LABELS[status]
    return Markup(f'<span class="badge sd-status sd-status-{status.value}">{label}</span>')  # noqa: S704


def requester_status_hint(status: Status) -> str:
    return REQUESTER_STATUS_HINTS[status]


def status_label(value: str | None) -> str:
    """The label of a stored status value (the audit trail keeps values)."""
    try:
        return Status(value).label if value else ""
    except ValueError:
        return value or ""


def priority_badge(priority: Priority) -> Markup:
    label = priority.value.capitalize()
    return Markup(f'<span class="badge sd-priority sd-priority-{priority.value}">{label}</span>')  # noqa: S704


def init_app(app: Flask) -> None:
    app.jinja_env.filters["status_badge"] = status_badge
    app.jinja_env.filters["priority_badge"] = priority_badge
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["requester_status_badge"] = requester_status_badge
    app.jinja_env.filters["requester_status_hint"] = requester_status_hint
