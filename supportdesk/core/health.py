"""Probes. `/healthz` (liveness): the process answers and reaches its database. `/readyz`
(readiness): the database, Redis when one is configured, and the schema at the migrations' head, so a
load balancer sends no traffic to a release whose migrations have not run."""

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

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    database = _database()
    return jsonify(status=database, database=database), 200 if database == "ok" else 503


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _database(), "redis": _redis(), "migrations": _migrations()}
    ready = all(value in ("ok", "not configured") for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", **checks), 200 if ready else 503


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
    except SQLAlchemyError:
        return "unavailable"
    return "ok" if applied == expected_heads() else "pending"


@cache
def expected_heads() -> frozenset[str]:
    """The heads of the migrations shipped with this release (read once per process)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())
