"""Index builds in migrations: CONCURRENTLY on PostgreSQL (writes go on meanwhile), and a lock timeout
so a migration stuck behind a long transaction fails fast instead of stopping every query queued
behind it; a plain index on SQLite. And the lineage record every upgrade leaves."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import inspect, select, text

from supportdesk.app import create_app
from supportdesk.core.db import db
from supportdesk.core.health import expected_heads, known_revisions
from supportdesk.core.migrating import lineage
from tests.conftest import make_config
from tests.databases import postgres_admin_url, postgres_reachable, throwaway_postgres_database
from tests.later_migrations import migrations_plus

INDEX = "ix_tickets_later_subject"
INDEX_UPGRADE = """
create_index_concurrently("ix_tickets_later_subject", "tickets", ["subject"], lock_timeout="1s")
"""
INDEX_DOWNGRADE = 'op.drop_index("ix_tickets_later_subject", table_name="tickets")'


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path) -> Iterator[tuple[Flask, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        yield create_app(make_config(url, tmp_path)), url
        return
    if not postgres_reachable(postgres_admin_url()):
        pytest.skip("PostgreSQL does not answer")
    with throwaway_postgres_database(postgres_admin_url()) as url:
        application = create_app(make_config(url, tmp_path))
        yield application, url
        with application.app_context():
            db.engine().dispose()


def test_an_index_migration_builds_a_valid_index(fresh, tmp_path):
    application, _ = fresh
    later = migrations_plus(tmp_path / "later", "c0ncurrent01", INDEX_UPGRADE, INDEX_DOWNGRADE)
    with application.app_context():
        upgrade(directory=str(later))
        with db.engine().connect() as connection:
            assert INDEX in {index["name"] for index in inspect(connection).get_indexes("tickets")}
            if connection.dialect.name == "postgresql":
                valid = connection.execute(
                    text("SELECT indisvalid FROM pg_index WHERE indexrelid = CAST(:name AS regclass)"),
                    {"name": INDEX},
                ).scalar_one()
                assert valid is True
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            recorded = set(connection.execute(select(lineage.c.revision)).scalars())
    assert version == "c0ncurrent01"
    assert recorded == set(known_revisions()) | {"c0ncurrent01"}


def test_an_index_build_behind_a_long_transaction_gives_up_within_its_lock_timeout(fresh, tmp_path, caplog):
    application, url = fresh
    if not url.startswith("postgresql"):
        pytest.skip("SQLite has no lock timeout; a writer there waits on the database file")
    later = migrations_plus(tmp_path / "later", "c0ncurrent02", INDEX_UPGRADE, INDEX_DOWNGRADE)
    with application.app_context():
        upgrade()
    # A long transaction that holds a lock the index build conflicts with (as autovacuum or a
    # concurrent schema change would).
    holder = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    holder.execute("LOCK TABLE tickets IN SHARE UPDATE EXCLUSIVE MODE")
    outcome: list[BaseException | None] = []

    def migrate() -> None:
        try:
            with application.app_context():
                upgrade(directory=str(later))
            outcome.append(None)
        except BaseException as error:  # flask-migrate exits through sys.exit on errors
            outcome.append(error)

    worker = threading.Thread(target=migrate)
    worker.start()
    worker.join(timeout=20)
    holder.rollback()
    holder.close()
    worker.join(timeout=20)
    assert outcome and outcome[0] is not None, "the index build should have given up"
    assert "lock timeout" in caplog.text + str(outcome[0])
    with application.app_context(), db.engine().connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version in expected_heads()  # the index migration did not count as applied
        assert INDEX not in {index["name"] for index in inspect(connection).get_indexes("tickets")}
