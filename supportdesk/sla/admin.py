"""The admins' service-level page: business calendars and policies, in the desk's admin area. Each
form is parsed here, then one unit of work runs the settings service; editing in place is through the
API (`PUT`), the page creates and deletes."""

from __future__ import annotations

import math
import re
from zoneinfo import available_timezones

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts import service as accounts
from supportdesk.accounts.admin import bp
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, DomainError, FieldError, ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import parse_id
from supportdesk.sla import settings
from supportdesk.tickets import categories
from supportdesk.tickets.lifecycle import Priority

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
ZONES = sorted(available_timezones())
MAX_POSITION = 10_000
DEFAULT_WARNING_MINUTES = 60


def _minutes(text: str, field: str, errors: list[FieldError]) -> int:
    match = _CLOCK.match(text.strip())
    if not match:
        errors.append(FieldError(field, "a time such as 09:00"))
        return 0
    return 24 * 60 if text.strip() == "24:00" else int(match.group(1)) * 60 + int(match.group(2))


def _optional_id(name: str) -> int | None:
    value = request.form.get(name, "")
    return parse_id(value) if value else None


def _optional_minutes(name: str, errors: list[FieldError]) -> int | None:
    """Targets are typed in hours (decimals allowed) and kept in minutes."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and 0 < hours <= settings.MAX_TARGET_MINUTES / 60):
        errors.append(FieldError(name, "a number of working hours, such as 4 or 0.5"))
        return None
    return max(1, round(hours * 60))


@bp.get("/service-levels")
def service_levels() -> str:
    session = db.session()
    policies = settings.list_policies(session, current_user)
    teams = accounts.list_teams(session, current_user)
    all_categories = categories.list_categories(session, active_only=False)
    names = settings.Names(
        categories={c.id: c.name for c in all_categories}, teams={t.id: t.name for t in teams}
    )
    return render_template(
        "sla/admin.html",
        calendars=settings.list_calendars(session, current_user),
        policies=policies,
        described={p.id: settings.describe(p, names) for p in policies},
        teams=teams,
        categories=all_categories,
        priorities=list(Priority),
        zones=ZONES,
        days=DAYS,
        form=FlaskForm(),
    )


@bp.post("/service-levels/calendars")
def create_calendar() -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.service_levels"))
    errors: list[FieldError] = []
    start = _minutes(request.form.get("start", ""), "start", errors)
    end = _minutes(request.form.get("end", ""), "end", errors) or 24 * 60  # until 00:00 is until midnight
    days = [day for day in request.form.getlist("days") if day in {str(i) for i in range(7)}]
    holidays = [line.strip() for line in request.form.get("holidays", "").splitlines() if line.strip()]
    try:
        if errors:
            raise ValidationError(errors)
        with db.transaction() as session:
            settings.save_calendar(
                session,
                current_user,
                name=request.form.get("name", ""),
                zone=request.form.get("zone", ""),
                weekly={day: [[start, end]] for day in days},
                holidays=holidays,
                origin=request_origin(),
            )
    except ValidationError as error:
        flash(f"The calendar was not saved: {error.detail}", "danger")
    else:
        flash("Calendar created. Open tickets are being recomputed.", "success")
    return redirect(url_for("admin.service_levels"))


@bp.post("/service-levels/calendars/<id:calendar_id>/delete")
def delete_calendar(calendar_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                settings.delete_calendar(session, current_user, calendar_id, origin=request_origin())
        except (Conflict, DomainError) as error:
            flash(error.detail, "danger")
        else:
            flash("Calendar deleted.", "success")
    return redirect(url_for("admin.service_levels"))


@bp.post("/service-levels/policies")
def create_policy() -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.service_levels"))
    errors: list[FieldError] = []
    first = _optional_minutes("first_response_hours", errors)
    resolution = _optional_minutes("resolution_hours", errors)
    warning = _optional_minutes("warning_hours", errors)
    priority = request.form.get("priority", "")
    try:
        if priority and priority not in {p.value for p in Priority}:
            errors.append(FieldError("priority", "choose a priority from the list"))
        calendar_id = _optional_id("calendar")
        if calendar_id is None:
            errors.append(FieldError("calendar", "choose a calendar"))
        position = int(request.form.get("position") or 0)
        if not 0 <= position <= MAX_POSITION:
            errors.append(FieldError("position", f"a number from 0 to {MAX_POSITION}"))
        if errors or calendar_id is None:
            raise ValidationError(errors)
        with db.transaction() as session:
            settings.save_policy(
                session,
                current_user,
                name=request.form.get("name", ""),
                position=position,
                calendar_id=calendar_id,
                priority=Priority(priority) if priority else None,
                category_id=_optional_id("category"),
                team_id=_optional_id("team"),
                first_response_minutes=first,
                resolution_minutes=resolution,
                warning_minutes=warning if warning is not None else DEFAULT_WARNING_MINUTES,
                escalate_priority=request.form.get("escalate_priority") == "1",
                escalate_to_team_id=_optional_id("escalate_team"),
                origin=request_origin(),
            )
    except ValueError:
        flash("The policy was not saved: choose from the lists and give the order as a number.", "danger")
    except ValidationError as error:
        flash(f"The policy was not saved: {error.detail}", "danger")
    else:
        flash("Policy created. Open tickets are being recomputed.", "success")
    return redirect(url_for("admin.service_levels"))


@bp.post("/service-levels/policies/<id:policy_id>/delete")
def delete_policy(policy_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                settings.delete_policy(session, current_user, policy_id, origin=request_origin())
        except DomainError as error:
            flash(error.detail, "danger")
        else:
            flash("Policy deleted. Open tickets are being recomputed.", "success")
    return redirect(url_for("admin.service_levels"))
