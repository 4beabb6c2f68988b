"""Sign-in and sign-out pages."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from supportdesk.accounts import directory_accounts, oidc, oidc_views, service, tokens, twofactor
from supportdesk.accounts.directory import DirectoryUnavailable
from supportdesk.core import clock, ratelimit
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import form_errors, safe_next

bp = Blueprint("accounts", __name__)


@login_required
def landing() -> Response:
    """`/`: the desk for technicians and admins, the portal for everyone else."""
    target = "desk.home" if current_user.is_staff else "portal.home"
    return redirect(url_for(target))  # type: ignore[return-value]


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


@bp.route("/login", methods=["GET", "POST"])
@ratelimit.per_account
@ratelimit.per_address
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("landing"))  # type: ignore[return-value]
    form = LoginForm()
    directory = current_config().directory  # people may sign in with a directory user name too
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                user = directory_accounts.authenticate(
                    db_session, directory, form.email.data, form.password.data, request_origin()
                )
                if user is not None and not oidc.may_use_password(current_config().oidc, user):
                    raise oidc.SignInRefused("password-off", "")  # rolls the sign-in back
                needs_code = user is not None and twofactor.is_enabled(db_session, user)
                if user is not None and not needs_code:
                    service.record_sign_in(db_session, user)
        except DirectoryUnavailable:
            current_app.logger.exception("the directory did not answer a sign-in")
            flash("The company directory does not answer just now. Try again in a minute.", "danger")
            return render_template("accounts/login.html", form=form, directory=directory), 503
        except oidc.SignInRefused:
            flash(f"Sign in with {current_config().oidc.provider_name} instead.", "info")  # type: ignore[union-attr]
            return render_template("accounts/login.html", form=form, directory=directory), 403
        if user is not None:
            session.clear()  # a fresh session at sign-in, so a planted one is worth nothing
            target = safe_next(request.args.get("next"), url_for("landing"))
            if needs_code:
                # Half signed in: nothing but the code page is open to this session until the code.
                session[PENDING] = {
                    "user": user.id,
                    "epoch": user.session_epoch,
                    "email": user.email,  # the sign-in throttle's account key for the code attempts
                    "until": (clock.now() + SECOND_STEP_TIME).timestamp(),
                    "next": target,
                }
                return redirect(url_for("accounts.login_code"))  # type: ignore[return-value]
            login_user(user)
            return redirect(target)  # type: ignore[return-value]
        login_name = "user name or email" if directory else "email"
        flash(f"That {login_name} and password do not match an active account.", "danger")
        return render_template("accounts/login.html", form=form, directory=directory), 401
    return render_template("accounts/login.html", form=form, directory=directory)


PENDING = ratelimit.PENDING_SIGN_IN
SECOND_STEP_TIME = timedelta(minutes=5)


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])


@bp.route("/login/code", methods=["GET", "POST"])
@ratelimit.per_account
@ratelimit.per_address
def login_code() -> Response | str | tuple[str, int]:
    """The second step of signing in for a user with two-factor on: an authenticator or recovery code."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < clock.now().timestamp():
        session.pop(PENDING, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("accounts.login"))  # type: ignore[return-value]
    form = CodeForm()
    if form.validate_on_submit():
        with db.transaction() as db_session:
            user = twofactor.complete_sign_in(
                db_session,
                current_app.config["SUPPORTDESK"].secret_key,
                int(pending["user"]),
                int(pending["epoch"]),
                form.code.data,
            )
        if user is not None:
            session.clear()
            login_user(user)
            return redirect(pending["next"])  # type: ignore[return-value]
        flash(
            "That code is not valid. Try the current code from your app, or an unused recovery code.",
            "danger",
        )
        return render_template("accounts/login_code.html", form=CodeForm(formdata=None)), 401
    return render_template("accounts/login_code.html", form=form), 422 if form.errors else 200


class TokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens() -> tuple[str, int, dict[str, str]]:
    """Create and revoke personal API tokens; a new token's secret is shown once, on this response."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                _, secret = tokens.issue_token_for(db_session, current_user, form.name.data)
        except ValidationError as error:
            flash(error.detail, "danger")
        else:
            form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    response_body = render_template(
        "accounts/tokens.html",
        form=form,
        secret=secret,
        tokens=tokens.list_tokens(db.session(), current_user),
    )
    # The page may hold a new secret: no browser or proxy cache may keep it (nor the back button show it).
    return response_body, status, {"Cache-Control": "no-store"}


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        with db.transaction() as db_session:
            tokens.revoke_token(db_session, current_user, token_id)
        flash("Token revoked: scripts using it are signed out.", "success")
    return redirect(url_for("accounts.api_tokens"))  # type: ignore[return-value]


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField("Repeat the new password", validators=[DataRequired(), EqualTo("new_password")])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@ratelimit.per_account
@ratelimit.per_address
def change_password() -> Response | str | tuple[str, int]:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            # The user object itself, not Flask-Login's proxy: login_user() below stores what it is given as
            # the request's user, and a proxy that points at itself recurses until the process crashes.
            with db.transaction() as db_session:
                user = service.change_password(
                    db_session,
                    current_user._get_current_object(),
                    form.current_password.data,
                    form.new_password.data,
                )
        except ValidationError as error:
            form_errors(form, error)
        else:
            login_user(user)  # this browser stays signed in; every other session and token ends
            flash(
                "Password changed. Other browsers are signed out and your API tokens are revoked.", "success"
            )
            return redirect(url_for("landing"))  # type: ignore[return-value]
    directory_account = service.is_directory_account(db.session(), current_user)
    page = render_template("accounts/password.html", form=form, directory_account=directory_account)
    return page, 422 if form.errors else 200


@bp.post("/logout")
@login_required
def logout() -> Response:
    # Ending the epoch, not just dropping this cookie, so a copied session cookie dies too.
    provider_logout = oidc_views.provider_logout_url()  # the provider's session ends too, where it can
    with db.transaction() as db_session:
        service.end_sessions(db_session, current_user)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    if provider_logout:
        return oidc_views.leave_for_provider(provider_logout)
    return redirect(url_for("accounts.login"))  # type: ignore[return-value]


# Pages a user with a temporary password may still reach: the password page, signing out, and what
# needs no user at all (the API authenticates with tokens, which such a user cannot get).
_OPEN_WITH_TEMPORARY_PASSWORD = frozenset({"accounts.change_password", "accounts.logout", "accounts.login"})
_NO_USER_NEEDED = ("static", "health.", "monitoring.", "recovery.", "apidocs.", "api.")


@bp.before_app_request
def _temporary_password_first() -> Response | None:
    """After signing in with a temporary password an admin set, nothing but choosing a new one."""
    endpoint = request.endpoint or ""
    if "_user_id" not in session or endpoint in _OPEN_WITH_TEMPORARY_PASSWORD:
        return None
    if endpoint.startswith(_NO_USER_NEEDED):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        if request.headers.get("HX-Request"):
            return Response(status=204)  # a part of the page (the bell) stays as it is
        return redirect(url_for("accounts.change_password"))  # type: ignore[return-value]
    return None
