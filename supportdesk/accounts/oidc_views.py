"""Sign in with the company's identity provider (OpenID Connect): the button's start, the provider's
callback, and the provider's part of signing out. The rules are in oidc.py, the protocol in
oidc_client.py."""

from __future__ import annotations

import flask
import structlog
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from supportdesk.accounts import oidc, oidc_client
from supportdesk.accounts.models import User
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.oidc_settings import OidcSettings
from supportdesk.core.origin import request_origin
from supportdesk.core.ratelimit import limiter
from supportdesk.core.web import safe_next

bp = Blueprint("oidc", __name__)
log = structlog.get_logger("supportdesk.accounts")

_NEXT = "oidc_next"
# The largest ID token kept in the session (a cookie) as the sign-out hint.
ID_TOKEN_HINT_MAX = 1500
# The sign-in budget per address (LOGIN_LIMIT_PER_ADDRESS), shared with the password form: a script
# hammering the provider's callback is throttled like one guessing passwords.
_per_address = limiter.shared_limit(lambda: current_config().login_limit_per_address, scope="login-address")


@bp.app_context_processor
def _sign_in_button() -> dict[str, str | None]:
    """The sign-in page's "Sign in with <provider>" button, when SSO is on."""
    settings = current_config().oidc
    return {"sso_provider": settings.provider_name if settings else None}


def _settings() -> OidcSettings:
    settings = current_config().oidc
    if settings is None:
        abort(404)
    return settings


def _redirect_uri() -> str:
    """Exactly what is registered at the provider: the desk's public address, not the request's Host."""
    return f"{current_config().public_url}{url_for('oidc.callback')}"


@bp.get("/login/oidc")
@_per_address
def start() -> Response:
    settings = _settings()
    if current_user.is_authenticated:
        return redirect(url_for("landing"))
    next_page = safe_next(request.args.get("next"), url_for("landing"))
    try:
        response = oidc_client.begin(settings, _redirect_uri())
    except oidc_client.ProviderError as error:
        return _refused(settings, error.message, error.status)
    session[_NEXT] = next_page
    return response


@bp.get("/login/oidc/callback")
@_per_address
def callback() -> Response:
    settings = _settings()
    try:
        claims, id_token = oidc_client.finish(settings)
    except oidc_client.ProviderError as error:
        log.warning("oidc_sign_in_failed", reason=str(error), remote_addr=request.remote_addr)
        return _refused(settings, error.message, error.status, error.detail)
    try:
        user = _sign_in(settings, claims)
    except oidc.SignInRefused as refusal:
        log.warning(
            "oidc_sign_in_refused",
            code=refusal.code,
            subject=claims.get("sub"),
            remote_addr=request.remote_addr,
        )
        return _refused(settings, refusal.reason, 403)
    log.info("oidc_sign_in", user_id=user.id, subject=claims.get("sub"), remote_addr=request.remote_addr)
    target = safe_next(session.get(_NEXT), url_for("landing"))
    session.clear()  # a fresh session at sign-in, as with a password, so a planted one is worth nothing
    login_user(user)
    # The provider did the second factor; the ID token is kept as the hint for the provider's sign-out
    # when it is small: the session is a cookie, and browsers drop one over 4 KB (Entra ID's tokens
    # carry up to 200 group ids). Without it, our client id names us at the end-session endpoint.
    hint = id_token if len(id_token) <= ID_TOKEN_HINT_MAX else None
    session[oidc.SIGNED_IN_WITH_PROVIDER] = {"id_token": hint}
    return redirect(target)


@bp.post("/login/oidc/backchannel-logout")
def backchannel_logout() -> Response:
    """The provider says someone signed out there (OpenID Connect Back-Channel Logout): a server-to-
    server call with a signed logout token, no cookie, so no CSRF token either (exempt in app.py)."""
    settings = _settings()
    headers = {"Cache-Control": "no-store"}
    try:
        claims = oidc_client.verify_logout_token(settings, request.form.get("logout_token", ""))
    except oidc_client.ProviderError as error:
        log.warning("oidc_backchannel_logout_refused", reason=str(error), remote_addr=request.remote_addr)
        return Response(error.message, status=400, mimetype="text/plain", headers=headers)
    with db.transaction() as db_session:
        user = oidc.end_sessions_of(db_session, settings, claims["sub"])
    log.info("oidc_backchannel_logout", user_id=user.id if user else None, subject=claims["sub"])
    return Response("", status=200, headers=headers)


def _sign_in(settings: OidcSettings, claims: dict[str, object]) -> User:
    for attempt in range(2):
        try:
            with db.transaction() as db_session:
                return oidc.sign_in(db_session, settings, claims, request_origin(via="sso"))
        except IntegrityError:
            # The same person's first sign-in in two tabs at once: the other one made the account.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _refused(settings: OidcSettings, message: str, status: int, detail: str = "") -> Response:
    session.pop(_NEXT, None)
    body = render_template(
        "accounts/oidc_refused.html",
        provider=settings.provider_name,
        message=message,
        detail=detail,
        retry=status != 403,  # a refusal of the person, not a failure: trying again gives the same
    )
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def leave_for_provider(url: str) -> flask.Response:
    """The page that takes the browser on to the provider's sign-out, once the desk's has happened."""
    settings = _settings()
    body = render_template("accounts/oidc_signing_out.html", url=url, provider=settings.provider_name)
    return flask.Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


def provider_logout_url() -> str | None:
    """Where sign-out goes next when this session signed in through a provider that ends its own
    session too (RP-initiated logout); None otherwise. Read before the session is cleared."""
    settings = current_config().oidc
    signed_in_with = session.get(oidc.SIGNED_IN_WITH_PROVIDER)
    if settings is None or not settings.provider_logout or not isinstance(signed_in_with, dict):
        return None
    id_token = signed_in_with.get("id_token")
    if id_token is not None and not isinstance(id_token, str):
        return None
    return oidc_client.logout_url(
        settings, id_token, f"{current_config().public_url}{url_for('accounts.login')}"
    )
