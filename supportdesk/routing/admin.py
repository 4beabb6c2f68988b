"""The admins' assignment page: each team's automatic assignment and leads, who is taking tickets, and
the routing rules. Each form is parsed here, then one unit of work runs the settings service."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts import service as accounts
from supportdesk.accounts.admin import bp
from supportdesk.core.db import db
from supportdesk.core.errors import DomainError, FieldError, ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import parse_id
from supportdesk.routing import availability, settings
from supportdesk.routing.models import AssignmentMode
from supportdesk.tickets import categories

MODE_LABELS = {
    AssignmentMode.OFF: "Off: tickets wait in the queue",
    AssignmentMode.ROUND_ROBIN: "Round-robin",
    AssignmentMode.LEAST_LOADED: "Least loaded",
}


@bp.get("/assignment")
def assignment() -> str:
    session = db.session()
    rules = settings.list_rules(session, current_user)
    teams = accounts.list_teams(session, current_user)
    all_categories = categories.list_categories(session, active_only=False)
    category_names = {c.id: c.name for c in all_categories}
    return render_template(
        "routing/admin.html",
        setups=settings.team_setups(session, current_user),
        loads=availability.technician_loads(session, current_user),
        rules=rules,
        rule_texts={r.id: settings.describe_rule(r, category_names) for r in rules},
        team_names={t.id: t.name for t in teams},
        teams=teams,
        categories=all_categories,
        modes=MODE_LABELS,
        form=FlaskForm(),
    )


@bp.post("/assignment/teams/<id:team_id>")
def save_team_assignment(team_id: int) -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.assignment"))
    errors: list[FieldError] = []
    mode = request.form.get("mode", "")
    if mode not in {m.value for m in AssignmentMode}:
        errors.append(FieldError("mode", "choose how the team's tickets are handed out"))
    cap_text = request.form.get("max_open", "").strip()
    max_open = int(cap_text) if (cap_text.isascii() and cap_text.isdigit()) and len(cap_text) < 6 else None
    if cap_text and max_open is None:
        errors.append(FieldError("max_open", "a number of open tickets, or empty for no cap"))
    try:
        lead_ids = [parse_id(value) for value in request.form.getlist("leads")]
        if errors:
            raise ValidationError(errors)
        with db.transaction() as session:
            setup = settings.save_team_setup(
                session,
                current_user,
                team_id,
                mode=AssignmentMode(mode),
                max_open=max_open,
                lead_ids=lead_ids,
                origin=request_origin(),
            )
            name = setup.team_name
    except ValueError:
        flash("The team's assignment was not saved: choose its leads from the list.", "danger")
    except ValidationError as error:
        flash(f"The team's assignment was not saved: {error.detail}", "danger")
    except DomainError as error:
        flash(error.detail, "danger")
    else:
        flash(f"Assignment of {name} saved.", "success")
    return redirect(url_for("admin.assignment"))


@bp.post("/assignment/rules")
def create_routing_rule() -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.assignment"))
    try:
        team_text, category_text = request.form.get("team", ""), request.form.get("category", "")
        position_text = request.form.get("position", "").strip() or "0"
        if (
            not (team_text.isascii() and team_text.isdigit())
            or (category_text and not (category_text.isascii() and category_text.isdigit()))
            or not (position_text.isascii() and position_text.isdigit())
        ):
            raise ValidationError.single("team", "choose from the lists and give the order as a number")
        with db.transaction() as session:
            settings.save_rule(
                session,
                current_user,
                name=request.form.get("name", ""),
                position=min(int(position_text), 10_001),
                team_id=parse_id(team_text),
                category_id=parse_id(category_text) if category_text else None,
                keywords=request.form.get("keywords", ""),
                origin=request_origin(),
            )
    except ValueError:
        flash("The rule was not saved: choose the team and category from the lists.", "danger")
    except ValidationError as error:
        flash(f"The rule was not saved: {error.detail}", "danger")
    else:
        flash("Rule created. New tickets follow it from now on.", "success")
    return redirect(url_for("admin.assignment"))


@bp.post("/assignment/rules/<id:rule_id>/delete")
def delete_routing_rule(rule_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                settings.delete_rule(session, current_user, rule_id, origin=request_origin())
        except DomainError as error:
            flash(error.detail, "danger")
        else:
            flash("Rule deleted.", "success")
    return redirect(url_for("admin.assignment"))
