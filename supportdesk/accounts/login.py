"""Flask-Login wiring: who the signed-in user is on each request."""

from __future__ import annotations

from flask import Response, jsonify, redirect, request, url_for
from flask_login import LoginManager
from werkzeug.wrappers import Response as BaseResponse

from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import User
from supportdesk.core.db import db

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie ("<id>.<epoch>"); a deactivated user's sessions, and sessions from
    before their last sign-out or password change, end on their next request."""
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit()) or not (epoch.isascii() and epoch.isdigit()):
        return None
    user = accounts.find_user(db.session(), int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized() -> BaseResponse | tuple[Response, int]:
    if request.path.startswith("/api/"):
        response = jsonify(
            type="about:blank", title="Unauthorized", status=401, detail="Sign in or send an API token."
        )
        response.mimetype = "application/problem+json"
        return response, 401
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
