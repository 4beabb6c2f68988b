"""The admins' pages for people: users, teams and their members. Other domains add their own pages to
this admin area (`tickets.admin`: categories)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from supportdesk.accounts import invitations, policy, reads, recovery, service, twofactor
from supportdesk.accounts.models import Role
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import options, parse_id, safe_next
from supportdesk.tickets import teams as team_tickets

bp = Blueprint("admin", __name__, url_prefix="/admin")


class NewUserForm(FlaskForm):  # type: ignore[misc]
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("New user's role", choices=options((r.value, r.value.capitalize()) for r in Role))
    password = PasswordField(
        "Initial password (leave empty to invite by email)", validators=[Optional(), Length(min=8, max=1024)]
    )


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
                    password=form.password.data or None,
                    role=Role(form.role.data),
                    origin=request_origin(),
                )
                invited = not form.password.data
                if invited:
                    invitations.invite(session, current_user, user, origin=request_origin())
        except ValidationError as error:
            flash(error.detail, "danger")
        else:
            if invited:
                flash(
                    f"{user.full_name} is invited: we sent {user.email} a link to choose a password.",
                    "success",
                )
            else:
                flash(f"{user.full_name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return _users_page(form, 422 if request.method == "POST" else 200)


@bp.post("/users/<id:user_id>")
def update_user(user_id: int) -> Response | tuple[str, int]:
    form = FlaskForm()
    back = safe_next(request.form.get("next"), url_for("admin.users"), within="/admin/users")
    if not form.validate_on_submit():
        return redirect(back)
    role = request.form.get("role")
    active = request.form.get("active")
    full_name = request.form.get("full_name")
    email = request.form.get("email")
    try:
        with db.transaction() as session:
            user = service.update_user(
                session,
                current_user,
                user_id,
                role=Role(role) if role else None,
                is_active=None if active is None else active == "1",
                full_name=full_name,
                origin=request_origin(),
            )
            pending = None
            if email is not None and service.normalise_email(email) != user.email:
                pending = recovery.request_email_change_for(
                    session, current_user, user_id, email, origin=request_origin()
                )
            name, state = (
                user.full_name,
                "active" if user.is_active else "deactivated (signed out everywhere)",
            )
            role_now = user.role.value
    except (ValidationError, ValueError) as error:
        if full_name is not None or email is not None:
            # The edit form again, with what was typed and why it was refused.
            edited = {"full_name": full_name or "", "email": email or "", "errors": _by_field(error)}
            return _users_page(NewUserForm(formdata=None), 422, editing=user_id, edited=edited)
        flash(getattr(error, "detail", "That role does not exist."), "danger")
        return redirect(back)
    if pending is not None:
        flash(
            f"{name} saved. We sent a confirmation link to {pending}; the address changes when it is used "
            "(the current address is told).",
            "success",
        )
    elif full_name is not None:
        flash(f"{name} saved.", "success")
    else:
        flash(f"{name} is now a {role_now}, {state}.", "success")
    return redirect(back)


@bp.post("/users/<id:user_id>/password")
def set_temporary_password(user_id: int) -> Response | tuple[str, int]:
    back = safe_next(request.form.get("next"), url_for("admin.users"), within="/admin/users")
    if not FlaskForm().validate_on_submit():
        return redirect(back)
    try:
        with db.transaction() as session:
            name = service.set_temporary_password(
                session,
                current_user,
                user_id,
                request.form.get("password", "")[:1024],
                origin=request_origin(),
            ).full_name
    except ValidationError as error:
        return _users_page(
            NewUserForm(formdata=None),
            422,
            editing=user_id,
            edited=None,
            password_error=error.errors[0].message,
        )
    flash(
        f"{name} must choose a new password when they next sign in with the temporary one; they are "
        "signed out everywhere and their API tokens are revoked. Tell them the password by a channel "
        "you trust.",
        "success",
    )
    return redirect(back)


@bp.post("/users/<id:user_id>/two-factor/reset")
def reset_two_factor(user_id: int) -> Response | tuple[str, int]:
    back = safe_next(request.form.get("next"), url_for("admin.users"), within="/admin/users")
    if not FlaskForm().validate_on_submit():
        return redirect(back)
    try:
        with db.transaction() as session:
            user = twofactor.reset_for(session, current_user, user_id, origin=request_origin())
            name, email = user.full_name, user.email
    except ValidationError as error:
        flash(f"Two-factor sign-in not reset: this user {error.errors[0].message}.", "danger")
        return _users_page(NewUserForm(formdata=None), 422, editing=user_id)
    flash(
        f"Two-factor sign-in is off for {name} ({email}); they are signed out everywhere. They sign in with "
        "their password and can set it up again.",
        "success",
    )
    return redirect(back)


def _by_field(error: ValidationError | ValueError) -> dict[str, str]:
    if isinstance(error, ValueError):
        return {"": "That role does not exist."}
    return {e.field: e.message for e in error.errors}


def _user_query() -> reads.UserQuery:
    args = request.args
    role = args.get("role", "")
    status = args.get("status", "")
    page = args.get("page", "1")
    return reads.UserQuery(
        text=args.get("q", "")[: reads.SEARCH_MAX],
        role=Role(role) if role in {r.value for r in Role} else None,
        status=status if status in reads.USER_STATUSES else None,
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )


_KEPT_ARGS = ("q", "role", "status", "page")


def _here() -> str:
    """The users page as it is filtered now, to come back to after a change."""
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in _KEPT_ARGS}
    return url_for("admin.users", **kept)


def _users_page(
    form: NewUserForm,
    status: int,
    editing: int | None = None,
    edited: dict[str, Any] | None = None,
    password_error: str | None = None,
) -> tuple[str, int]:
    query = _user_query()
    return render_template(
        "admin/users.html",
        page=reads.user_page(db.session(), current_user, query),
        query=query,
        form=form,
        roles=list(Role),
        editing=editing if editing is not None else request.args.get("edit", type=int),
        edited=edited,
        password_error=password_error,
        here=_here(),
    ), status


@bp.route("/teams", methods=["GET", "POST"])
def teams() -> Response | str | tuple[str, int]:
    form = NameForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                service.create_team(session, current_user, form.name.data, origin=request_origin())
        except ValidationError as error:
            flash(error.detail, "danger")
        else:
            flash(f"Team {form.name.data} created.", "success")
            return redirect(url_for("admin.teams"))
    return _teams_page(form, 422 if request.method == "POST" else 200)


@bp.post("/teams/<id:team_id>/name")
def rename_team(team_id: int) -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("admin.teams"))
    try:
        with db.transaction() as session:
            team = service.get_team(session, current_user, team_id)
            old = team.name
            new = service.rename_team(
                session, current_user, team_id, request.form.get("name", "")[:200], origin=request_origin()
            ).name
    except ValidationError as error:
        flash(f"The team was not renamed: {error.errors[0].message}.", "danger")
        return _teams_page(NameForm(formdata=None), 422)
    flash(f"{old} is now called {new}.", "success")
    return redirect(url_for("admin.teams"))


@bp.post("/teams/<id:team_id>/delete")
def delete_team(team_id: int) -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("admin.teams"))
    try:
        move_to = request.form.get("move_to", "")
        with db.transaction() as session:
            removed = team_tickets.delete_team(
                session,
                current_user,
                team_id,
                move_to_id=parse_id(move_to) if move_to else None,
                origin=request_origin(),
            )
    except (ValidationError, ValueError) as error:
        detail = (
            error.errors[0].message if isinstance(error, ValidationError) else "choose a team from the list"
        )
        flash(f"The team was not deleted: {detail}.", "danger")
        return _teams_page(NameForm(formdata=None), 422)
    where = f"are now with {removed.moved_to}" if removed.moved_to else "have no team now"
    flash(f"Team {removed.name} deleted: its {removed.tickets} tickets {where}.", "success")
    return redirect(url_for("admin.teams"))


def _teams_page(form: NameForm, status: int) -> tuple[str, int]:
    session = db.session()
    return render_template(
        "admin/teams.html",
        teams=service.list_teams(session, current_user),
        form=form,
        staff=service.list_staff(session),
        ticket_counts=team_tickets.ticket_counts(session, current_user),
    ), status


@bp.post("/teams/<id:team_id>/members")
def team_members(team_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            ids = [parse_id(i) for i in request.form.getlist("members")]
            with db.transaction() as session:
                team = service.set_team_members(session, current_user, team_id, ids, origin=request_origin())
        except (ValidationError, ValueError) as error:
            flash(getattr(error, "detail", "Choose members from the list."), "danger")
        else:
            flash(f"{team.name} now has {len(team.members)} member(s).", "success")
    return redirect(url_for("admin.teams"))
