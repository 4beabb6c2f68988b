"""The account page where a user turns two-factor sign-in on and off (the rules are in `twofactor.py`)."""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from supportdesk.accounts import oidc, policy, twofactor
from supportdesk.core import ratelimit
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.core.web import form_errors

bp = Blueprint("twofactor", __name__, url_prefix="/account/two-factor")

# The page may hold a secret or recovery codes: no browser or proxy may keep it.
NO_STORE = {"Cache-Control": "no-store"}


class StartForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code from your app", validators=[DataRequired(), Length(max=32)])


class DisableForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])
    code = StringField("Code from your app or a recovery code", validators=[DataRequired(), Length(max=32)])


class RegenerateForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code from your app", validators=[DataRequired(), Length(max=32)])


def _required_roles() -> tuple[str, ...]:
    roles: tuple[str, ...] = current_app.config["SUPPORTDESK"].require_two_factor
    return roles


# Kept in the session once a required user is seen with two-factor on, so the check below reads the
# database once per session rather than on every request. Turning it off drops the mark; an admin's
# reset ends the session.
_SEEN_ON = "two_factor_on"
# What a user held to set up two-factor may still reach.
_OPEN = frozenset({"accounts.logout", "accounts.login", "accounts.login_code", "accounts.change_password"})
_NO_USER_NEEDED = ("static", "health.", "monitoring.", "recovery.", "apidocs.", "api.", "twofactor.")


@bp.before_app_request
def _two_factor_first() -> Response | None:
    """Staff of a role the desk requires it of (REQUIRE_TWO_FACTOR) set up a second factor before anything."""
    roles = _required_roles()
    endpoint = request.endpoint or ""
    if not roles or "_user_id" not in session or session.get(_SEEN_ON):
        return None
    if session.get(oidc.SIGNED_IN_WITH_PROVIDER):
        return None  # signed in through the company's identity provider, whose second factor counts
    if endpoint in _OPEN or endpoint.startswith(_NO_USER_NEEDED) or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    if not policy.two_factor_required(user, roles):
        return None
    if twofactor.is_enabled(db.session(), user):
        session[_SEEN_ON] = True
        return None
    if request.headers.get("HX-Request"):
        return Response(status=204)  # a part of the page (the bell) stays as it is
    return redirect(url_for("twofactor.settings"))


def _key() -> str:
    key: str = current_app.config["SUPPORTDESK"].secret_key
    return key


def _page(
    status: int = 200, codes: list[str] | None = None, **forms: FlaskForm
) -> tuple[str, int, dict[str, str]]:
    db_session = db.session()
    user = current_user._get_current_object()
    enabled = twofactor.is_enabled(db_session, user)
    secret = None if enabled else twofactor.pending_secret(db_session, _key(), user)
    qr = None
    if secret is not None:
        # segno writes the SVG itself (no user input in it): safe to place in the page as it is. A white
        # background and the standard quiet zone, so phones read it in the dark theme too.
        svg = segno.make(twofactor.provisioning_uri(secret, user), error="m").svg_inline(
            scale=4, border=4, light="#fff"
        )
        qr = Markup(svg)  # noqa: S704
    body = render_template(
        "accounts/two_factor.html",
        enabled=enabled,
        secret=secret,
        qr=qr,
        codes=codes,
        required=policy.two_factor_required(user, _required_roles()),
        codes_left=twofactor.recovery_codes_left(db_session, user) if enabled else 0,
        start_form=forms.get("start_form") or StartForm(formdata=None),
        confirm_form=forms.get("confirm_form") or ConfirmForm(formdata=None),
        disable_form=forms.get("disable_form") or DisableForm(formdata=None),
        regenerate_form=forms.get("regenerate_form") or RegenerateForm(formdata=None),
    )
    return body, status, NO_STORE


@bp.get("")
@login_required
def settings() -> tuple[str, int, dict[str, str]]:
    return _page()


@bp.post("/start")
@login_required
@ratelimit.per_account
@ratelimit.per_address
def start() -> Response | tuple[str, int, dict[str, str]]:
    form = StartForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                twofactor.start(db_session, _key(), current_user._get_current_object(), form.password.data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            return redirect(url_for("twofactor.settings"))
    return _page(422, start_form=form)


@bp.post("/confirm")
@login_required
@ratelimit.per_account
@ratelimit.per_address
def confirm() -> tuple[str, int, dict[str, str]]:
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                codes = twofactor.confirm(
                    db_session,
                    _key(),
                    current_user._get_current_object(),
                    form.code.data,
                    origin=request_origin(),
                )
        except ValidationError as error:
            form_errors(form, error)
        else:
            return _page(codes=codes)
    return _page(422, confirm_form=form)


@bp.post("/disable")
@login_required
@ratelimit.per_account
@ratelimit.per_address
def disable() -> Response | tuple[str, int, dict[str, str]]:
    form = DisableForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                twofactor.disable(
                    db_session,
                    _key(),
                    current_user._get_current_object(),
                    form.password.data,
                    form.code.data,
                    _required_roles(),
                    origin=request_origin(),
                )
        except ValidationError as error:
            form_errors(form, error)
        else:
            session.pop(_SEEN_ON, None)
            flash("Two-factor sign-in is off: your password alone signs you in.", "warning")
            return redirect(url_for("twofactor.settings"))
    return _page(422, disable_form=form)


@bp.post("/recovery-codes")
@login_required
@ratelimit.per_account
@ratelimit.per_address
def recovery_codes() -> tuple[str, int, dict[str, str]]:
    form = RegenerateForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                codes = twofactor.regenerate_recovery_codes(
                    db_session, _key(), current_user._get_current_object(), form.code.data
                )
        except ValidationError as error:
            form_errors(form, error)
        else:
            return _page(codes=codes)
    return _page(422, regenerate_form=form)
