"""The admins' category pages: categories and the team each routes to, in the desk's admin area."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts import service as accounts
from supportdesk.accounts.admin import NameForm, bp
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.core.web import parse_id
from supportdesk.tickets import categories


@bp.route("/categories", methods=["GET", "POST"])
def categories_page() -> Response | str | tuple[str, int]:
    form = NameForm()
    if form.validate_on_submit():
        try:
            team_id = parse_id(request.form["default_team"]) if request.form.get("default_team") else None
            with db.transaction() as session:
                categories.create_category(session, current_user, form.name.data, team_id)
        except (ValidationError, ValueError) as error:
            flash(getattr(error, "detail", "Choose a team from the list."), "danger")
        else:
            flash(f"Category {form.name.data} created.", "success")
            return redirect(url_for("admin.categories_page"))
    session = db.session()
    return render_template(
        "admin/categories.html",
        categories=categories.list_categories(session, active_only=False),
        teams=accounts.list_teams(session, current_user),
        form=form,
    ), 422 if request.method == "POST" else 200


@bp.post("/categories/<id:category_id>")
def update_category(category_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        team = request.form.get("default_team")
        active = request.form.get("active")
        try:
            with db.transaction() as session:
                categories.update_category(
                    session,
                    current_user,
                    category_id,
                    default_team_id=parse_id(team) if team else None,
                    clear_default_team=team == "",
                    is_active=None if active is None else active == "1",
                )
        except (ValidationError, ValueError) as error:
            flash(getattr(error, "detail", "Choose a team from the list."), "danger")
        else:
            flash("Category updated.", "success")
    return redirect(url_for("admin.categories_page"))
