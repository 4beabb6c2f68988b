"""Throttling of password guessing: per account and per client address, shared by every app process
through Redis in production (RATELIMIT_STORAGE_URI), in memory for a single embedded process."""

from __future__ import annotations

from flask import current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from supportdesk.core.apikit import ApiError, parse_json

# The session key of a sign-in waiting for its second factor (accounts/views.py).
PENDING_SIGN_IN = "two_factor_pending"

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def submitted_email() -> str:
    if request.is_json:
        try:
            body = parse_json(request.get_data(cache=True))
        except ApiError:
            body = None  # the endpoint itself answers the bad body
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    pending = session.get(PENDING_SIGN_IN)
    if not email and isinstance(pending, dict):
        email = pending.get("email")  # a two-factor code: it spends the same account's budget
    if not email and current_user and current_user.is_authenticated:
        email = current_user.email  # a password check while signed in: the change-password form
    return f"account:{str(email or '').strip().lower()[:254]}"


def _per_account() -> str:
    limit: str = current_app.config["SUPPORTDESK"].login_limit_per_account
    return limit


def _per_address() -> str:
    limit: str = current_app.config["SUPPORTDESK"].login_limit_per_address
    return limit


# Both limits apply to every password check (the sign-in page, token issuing, the change-password form),
# and only to POSTs. Shared limits: one budget per account and one per address across all of them,
# rather than one per route (which multiplied the stated rate by the number of ways in).
per_account = limiter.shared_limit(
    _per_account, scope="login-account", key_func=submitted_email, methods=["POST"]
)
per_address = limiter.shared_limit(_per_address, scope="login-address", methods=["POST"])
