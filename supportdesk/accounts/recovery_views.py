"""Forgot-password and change-of-address pages (the rules are in `recovery.py`)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from supportdesk.accounts import recovery
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.core.ratelimit import limiter, submitted_email
from supportdesk.core.web import form_errors

bp = Blueprint("recovery", __name__)


def _per_account() -> str:
    limit: str = current_app.config["SUPPORTDESK"].reset_limit_per_account
    return limit


def _per_address() -> str:
    limit: str = current_app.config["SUPPORTDESK"].reset_limit_per_address
    return limit


class ForgotForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", "must match")])


class EmailChangeForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("New email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])


SAME_ANSWER = "If an account uses that address, we have sent it a link to choose a new password."


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_per_account, key_func=submitted_email, methods=["POST"], scope="reset-account")
@limiter.limit(_per_address, methods=["POST"], scope="reset-address")
def forgot_password() -> str | tuple[str, int]:
    form = ForgotForm()
    if form.validate_on_submit():
        with db.transaction() as session:
            recovery.request_password_reset(session, form.email.data)
        # The same page whether or not the address has an account.
        return render_template("accounts/forgot.html", form=ForgotForm(formdata=None), sent=SAME_ANSWER)
    return render_template("accounts/forgot.html", form=form, sent=None), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str | tuple[str, int]:
    session = db.session()
    recovery.user_for_reset(session, token)  # a dead link says so before anyone types a password
    form = ResetForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as writing:
                recovery.reset_password(writing, token, form.password.data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            flash("Your password is changed. Sign in with it; other browsers are signed out.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), 422 if form.errors else 200


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email() -> Response | str | tuple[str, int]:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                address = recovery.request_email_change(
                    session, current_user, form.email.data, form.password.data
                )
        except ValidationError as error:
            form_errors(form, error)
        else:
            flash(
                f"We have sent a link to {address}: your address changes when you open it. "
                f"{current_user.email} is told too.",
                "success",
            )
            return redirect(url_for("recovery.change_email"))
    return render_template("accounts/email.html", form=form), 422 if form.errors else 200


@bp.get("/account/email/confirm/<token>")
def confirm_email(token: str) -> Response:
    with db.transaction() as session:
        user = recovery.confirm_email_change(session, token)
    flash(f"Your address is now {user.email}.", "success")
    target = "landing" if current_user.is_authenticated else "accounts.login"
    return redirect(url_for(target))
