"""/readyz: ready only when the database and Redis answer and the schema is at the migrations' head or
descends from it (a newer release migrated it: expand-then-contract keeps this release working on it).
/healthz (liveness): the process answers, whatever the database does."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from supportdesk.app import create_app
from supportdesk.core.db import db
from tests.conftest import make_config
from tests.databases import (
    postgres_admin_url,
    postgres_reachable,
    redis_test_url,
    throwaway_postgres_database,
)
from tests.later_migrations import migrations_plus


def test_ready_when_database_is_reachable_and_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "migrations": "ok",
    }


@pytest.fixture
def with_redis(clean_app):
    def use(url):
        clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, redis_url=url)
        return clean_app.test_client()

    settings = clean_app.config["SUPPORTDESK"]
    yield use
    clean_app.config["SUPPORTDESK"] = settings


def test_redis_is_checked_when_configured(with_redis):
    response = with_redis(redis_test_url(0)).get("/readyz")
    if response.get_json()["redis"] != "ok":
        pytest.skip("Redis does not answer (TEST_REDIS_URL)")
    assert response.status_code == 200
    down = with_redis("redis://127.0.0.1:1/0").get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["redis"] == "unavailable"


def test_not_ready_until_migrations_have_run(tmp_path):
    application = create_app(make_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
    client = application.test_client()
    assert client.get("/readyz").get_json()["migrations"] == "unavailable"  # no schema at all
    with application.app_context():
        upgrade()
        downgrade(revision="-1")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "pending"
    with application.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200


def test_not_ready_without_a_database(tmp_path):
    application = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_healthz_answers_without_a_database(tmp_path):
    """Liveness: a process whose database is down is not restarted for it (readiness says it)."""
    application = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    response = application.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_app(request, tmp_path) -> Iterator[Flask]:
    if request.param == "sqlite":
        yield create_app(make_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
        return
    if not postgres_reachable(postgres_admin_url()):
        pytest.skip("PostgreSQL does not answer")
    with throwaway_postgres_database(postgres_admin_url()) as url:
        application = create_app(make_config(url, tmp_path))
        yield application
        with application.app_context():
            db.engine().dispose()


def newer_release_migrations(tmp_path: Path) -> Path:
    """This release's migrations plus one a later release adds (expand: a new nullable column)."""
    return migrations_plus(
        tmp_path / "newer-migrations",
        "feedc0ffee01",
        upgrade="""
            with op.batch_alter_table("tickets") as batch:
                batch.add_column(sa.Column("newer_release_note", sa.Text(), nullable=True))
        """,
        downgrade="""
            with op.batch_alter_table("tickets") as batch:
                batch.drop_column("newer_release_note")
        """,
    )


def test_ready_on_a_schema_a_newer_release_migrated(fresh_app, tmp_path):
    """After an upgrade that added a migration, the previous release (a rollback, or an instance not yet
    restarted) must still be ready: it knows nothing of the newer revision but the database records
    that it descends from this release's head."""
    newer = newer_release_migrations(tmp_path)
    client = fresh_app.test_client()
    with fresh_app.app_context():
        upgrade(directory=str(newer))
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["migrations"] == "ahead"
    with fresh_app.app_context():
        downgrade(directory=str(newer), revision="-1")  # the newer release contracts back to ours
    assert client.get("/readyz").get_json()["migrations"] == "ok"


def test_not_ready_on_a_schema_from_another_lineage(fresh_app):
    """A revision this release does not know, with no record that it descends from this release's head
    (another branch, a database of something else): not ready."""
    with fresh_app.app_context():
        upgrade()
        with db.engine().begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'badc0ffee000'"))
            connection.execute(text("DELETE FROM alembic_lineage"))
    response = fresh_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "unknown"


def test_a_database_migrated_before_the_lineage_was_recorded_is_ready_at_head(fresh_app):
    """Databases migrated by releases older than the lineage record have no such table: at this
    release's head they are ready, and the next upgrade records the lineage."""
    with fresh_app.app_context():
        upgrade()
        with db.engine().begin() as connection:
            connection.execute(text("DROP TABLE alembic_lineage"))
    assert fresh_app.test_client().get("/readyz").get_json()["migrations"] == "ok"
