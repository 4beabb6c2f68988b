"""Probes. `/healthz` (liveness): the process answers; it touches nothing else, so a database outage never
gets healthy processes restarted. `/readyz` (readiness): the database, Redis when one is configured, and
a schema this release can run on: at its migrations' head, or newer but descended from it (a later
release migrated it; migrations are expand-then-contract, so this release still works: that is what
lets a rollback, or an instance not yet restarted, keep serving). A schema behind the head, or from a
lineage this release cannot place, is not ready."""

from __future__ import annotations

from functools import cache

import redis
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from supportdesk.core.config import MIGRATIONS_DIR
from supportdesk.core.db import db
from supportdesk.core.errors import unavailable
from supportdesk.core.migrating import recorded_lineage

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _database(), "redis": _redis(), "migrations": _migrations()}
    ready = all(value in ("ok", "ahead", "not configured") for value in checks.values())
    answer = jsonify(status="ok" if ready else "unavailable", **checks)
    return (answer, 200) if ready else (unavailable(answer), 503)


def _database() -> str:
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unavailable"
    return "ok"


def _redis() -> str:
    url = current_app.config["SUPPORTDESK"].redis_url
    if not url:
        return "not configured"
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"


def _migrations() -> str:
    try:
        with db.engine().connect() as connection:
            applied = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
            if applied == expected_heads():
                return "ok"
            if applied <= known_revisions():
                return "pending"  # behind this release: its migrations have not run yet
            lineage = recorded_lineage(connection)
    except SQLAlchemyError:
        return "unavailable"
    # A revision this release does not know: newer, if the release that migrated recorded our head
    # among the ancestors of the database's head.
    return "ahead" if lineage is not None and expected_heads() <= lineage else "unknown"


@cache
def _script() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


@cache
def expected_heads() -> frozenset[str]:
    """The heads of the migrations shipped with this release (read once per process)."""
    return frozenset(_script().get_heads())


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this release ships."""
    return frozenset(revision.revision for revision in _script().walk_revisions())
