"""The admins' pages for people: users, teams and their members. Other domains add their own pages to
this admin area (`tickets.admin`: categories)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from supportdesk.accounts import policy, service
from supportdesk.accounts.models import Role
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.core.web import options, parse_id

bp = Blueprint("admin", __name__, url_prefix="/admin")


class NewUserForm(FlaskForm):  # type: ignore[misc]
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=options((r.value, r.value.capitalize()) for r in Role))
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=8, max=1024)])


class NameForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])


@bp.before_request
@login_required
def _admins_only() -> None:
    if not policy.may_manage_desk(current_user):
        raise NotFound("This page is for admins.")


@bp.route("/users", methods=["GET", "POST"])
def users() -> Response | str | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                user = service.create_user(
                    session,
                    current_user,
                    email=form.email.data,
                    full_name=form.full_name.data,
                    password=form.password.data,
                    role=Role(form.role.data),
                )
        except ValidationError as error:
            flash(error.detail, "danger")
        else:
            flash(f"{user.full_name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/users.html", users=service.list_users(db.session(), current_user), form=form, roles=list(Role)
    ), status


@bp.post("/users/<id:user_id>")
def update_user(user_id: int) -> Response:
    form = FlaskForm()
    if form.validate_on_submit():
        role = request.form.get("role")
        active = request.form.get("active")
        try:
            with db.transaction() as session:
                user = service.update_user(
                    session,
                    current_user,
                    user_id,
                    role=Role(role) if role else None,
                    is_active=None if active is None else active == "1",
                )
        except (ValidationError, ValueError) as error:
            flash(getattr(error, "detail", "That role does not exist."), "danger")
        else:
            state = "active" if user.is_active else "deactivated (signed out everywhere)"
            flash(f"{user.full_name} is now a {user.role.value}, {state}.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/teams", methods=["GET", "POST"])
def teams() -> Response | str | tuple[str, int]:
    form = NameForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                service.create_team(session, current_user, form.name.data)
        except ValidationError as error:
            flash(error.detail, "danger")
        else:
            flash(f"Team {form.name.data} created.", "success")
            return redirect(url_for("admin.teams"))
    session = db.session()
    return render_template(
        "admin/teams.html",
        teams=service.list_teams(session, current_user),
        form=form,
        staff=service.list_staff(session),
    ), 422 if request.method == "POST" else 200


@bp.post("/teams/<id:team_id>/members")
def team_members(team_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            ids = [parse_id(i) for i in request.form.getlist("members")]
            with db.transaction() as session:
                team = service.set_team_members(session, current_user, team_id, ids)
        except (ValidationError, ValueError) as error:
            flash(getattr(error, "detail", "Choose members from the list."), "danger")
        else:
            flash(f"{team.name} now has {len(team.members)} member(s).", "success")
    return redirect(url_for("admin.teams"))
