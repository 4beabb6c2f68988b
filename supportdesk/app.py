"""create_app: wiring only (settings, extensions, blueprints, error handlers)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from supportdesk import cli
from supportdesk.accounts import (
    admin,
    audit_api,
    audit_views,
    import_views,
    oidc_views,
    recovery_views,
    tokens,
    twofactor_views,
)
from supportdesk.accounts import api as accounts_api
from supportdesk.accounts import views as account_views
from supportdesk.accounts.login import login_manager
from supportdesk.attachments import views as attachment_views
from supportdesk.core import apidocs, apikit, health, logs, metrics, metrics_views, staleforms, web
from supportdesk.core.config import MIGRATIONS_DIR, Config
from supportdesk.core.db import db
from supportdesk.core.errors import register_error_handlers
from supportdesk.core.ratelimit import limiter
from supportdesk.inbound import admin as mailbox_admin
from supportdesk.inbound import api as mailbox_api
from supportdesk.jobs import admin as jobs_admin
from supportdesk.jobs import engine as jobs_engine
from supportdesk.jobs import tasks as jobs_tasks
from supportdesk.kb import api as kb_api
from supportdesk.kb import assist as kb_assist
from supportdesk.kb import pages as kb_pages
from supportdesk.notifications import admin as mail_admin
from supportdesk.notifications import desk as watcher_pages
from supportdesk.notifications import hooks as notification_hooks
from supportdesk.notifications import views as notification_views
from supportdesk.replies import api as replies_api
from supportdesk.replies import pages as reply_pages
from supportdesk.reports import api as reports_api
from supportdesk.reports import exports as report_exports
from supportdesk.reports import web as report_pages
from supportdesk.routing import admin as routing_admin
from supportdesk.routing import api as routing_api
from supportdesk.routing import desk as routing_desk
from supportdesk.satisfaction import api as satisfaction_api
from supportdesk.satisfaction import pages as satisfaction_pages
from supportdesk.sla import admin as sla_admin
from supportdesk.sla import api as sla_api
from supportdesk.sla import desk as sla_desk
from supportdesk.tickets import admin as ticket_admin
from supportdesk.tickets import api as tickets_api
from supportdesk.tickets import desk, links_api, links_desk, portal, preview, raising
from supportdesk.tickets import metrics as ticket_metrics
from supportdesk.tickets import web as ticket_web

# These register their routes when imported: API operations (and so the OpenAPI document), the
# domains' pages in the shared admin area, the background jobs with the job engine, and the
# notifications' session hooks.
ROUTE_MODULES = (
    accounts_api,
    audit_api,
    audit_views,
    import_views,
    tickets_api,
    ticket_admin,
    jobs_admin,
    mail_admin,
    jobs_tasks,
    notification_hooks,
    reports_api,
    report_exports,
    sla_api,
    sla_admin,
    sla_desk,
    routing_desk,
    routing_admin,
    routing_api,
    raising,
    links_desk,
    links_api,
    replies_api,
    reply_pages,
    mailbox_admin,
    mailbox_api,
    satisfaction_api,
    kb_api,
    kb_pages,
    kb_assist,
)

csrf = CSRFProtect()
migrate = Migrate()


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_path))
    app.config.update(
        SUPPORTDESK=config,
        SECRET_KEY=config.secret_key,
        DEBUG=False if config.is_production else app.config["DEBUG"],
        TESTING=config.env == "test",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=config.max_ticket_bytes + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config.trusted_proxies:
        # Client address, scheme and host as nginx saw them: rate limits key on the real client.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=config.trusted_proxies,
            x_proto=config.trusted_proxies,
            x_host=config.trusted_proxies,
        )
    logs.configure(json=config.log_json)
    logs.init_app(app)
    metrics.init_app(app)
    ticket_metrics.init_app(app)
    db.init_app(app, config.database_url)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    app.config["RATELIMIT_STORAGE_URI"] = config.ratelimit_storage_uri
    limiter.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    register_error_handlers(app)
    staleforms.init_app(app)
    web.init_app(app)
    ticket_web.init_app(app)
    app.add_url_rule("/", "landing", account_views.landing)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(recovery_views.bp)
    app.register_blueprint(import_views.public)
    app.register_blueprint(twofactor_views.bp)
    app.register_blueprint(oidc_views.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(report_pages.bp)
    app.register_blueprint(attachment_views.bp)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(watcher_pages.bp)
    app.register_blueprint(satisfaction_pages.bp)
    apikit.init_app(app, authenticate=tokens.authenticate_bearer)
    app.register_blueprint(apikit.bp)
    app.register_blueprint(apidocs.bp)
    csrf.exempt(oidc_views.backchannel_logout)  # the provider's server-to-server call: a signed token
    csrf.exempt(apikit.bp)  # the API authenticates with bearer tokens, which a browser never sends by itself
    app.register_error_handler(apikit.ApiError, apikit.api_error_response)
    app.add_url_rule("/preview", "preview", preview.markdown_preview, methods=["POST"])
    cli.init_app(app)
    jobs_engine.configure(app)
    return app
