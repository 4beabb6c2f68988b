"""Admin → Users → Import: upload a CSV file, look at the preview, apply it; invitations (sent again
from the users page, and the page where an invited person chooses a password)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from supportdesk.accounts import importing, invitations
from supportdesk.accounts.admin import bp
from supportdesk.accounts.people_csv import MAX_BYTES, MAX_ROWS, CsvRefused
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import form_errors, safe_next

public = Blueprint("invitations", __name__)


def _upload_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/import.html",
        error=error,
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // (1024 * 1024),
        update_existing=request.form.get("update_existing") == "1",
        invite=request.method == "GET" or request.form.get("invite") == "1",
    ), status


@bp.get("/users/import")
def import_people() -> tuple[str, int]:
    return _upload_page()


@bp.post("/users/import")
def upload_people() -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        return _upload_page("The form was out of date: choose the file again.", 400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page("Choose a CSV file to upload.", 422)
    data = upload.stream.read(MAX_BYTES + 1)
    try:
        with db.transaction() as session:
            plan = importing.stage(
                session,
                current_user,
                upload.filename,
                data,
                update_existing=request.form.get("update_existing") == "1",
                invite=request.form.get("invite") == "1",
            )
    except CsvRefused as refused:
        return _upload_page(refused.message, 422)
    return redirect(url_for("admin.import_preview", import_id=plan.import_id))


@bp.get("/users/import/<id:import_id>")
def import_preview(import_id: int) -> tuple[str, int]:
    plan = importing.preview(db.session(), current_user, import_id)
    return _preview_page(plan)


def _preview_page(plan: importing.Plan, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/import_preview.html",
        plan=plan,
        problem=problem,
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // (1024 * 1024),
        days=invitations.INVITE_DAYS,
    ), status


@bp.post("/users/import/<id:import_id>/apply")
def apply_import(import_id: int) -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("admin.import_preview", import_id=import_id))
    try:
        with db.transaction() as session:
            done = importing.apply(
                session, current_user, import_id, request.form.get("digest", "")[:64], origin=request_origin()
            )
    except (Conflict, ValidationError) as refused:
        plan = importing.preview(db.session(), current_user, import_id)
        message = refused.errors[0].message if isinstance(refused, ValidationError) else refused.detail
        return _preview_page(plan, message, refused.status)
    invited = f"; {done.invited} invited by email" if done.invited else ""
    flash(f"Imported: {done.created} created, {done.updated} updated{invited}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/invite")
def invite_user(user_id: int) -> Response | tuple[str, int]:
    back = safe_next(request.form.get("next"), url_for("admin.users"), within="/admin/users")
    if not FlaskForm().validate_on_submit():
        return redirect(back)
    try:
        with db.transaction() as session:
            user = invitations.reinvite(session, current_user, user_id, origin=request_origin())
            email = user.email
    except ValidationError as error:
        flash(f"No invitation sent: this user {error.errors[0].message}.", "danger")
        return redirect(back)
    flash(f"Invitation sent to {email}; the link works for {invitations.INVITE_DAYS} days.", "success")
    return redirect(back)


class ChoosePasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Choose a password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", "must match")])


@public.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Response | str | tuple[str, int]:
    user = invitations.user_for_invitation(db.session(), token)  # a dead link says so first
    email = user.email
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                invitations.accept(session, token, form.password.data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            flash(f"Welcome! Sign in as {email} with the password you chose.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/invitation.html", form=form, email=email), 422 if form.errors else 200
