"""The migration chain builds the schema from nothing on both databases, and agrees with the models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from supportdesk.app import create_app
from supportdesk.db import Base, db
from supportdesk.search.models import is_modelled
from tests.conftest import make_config
from tests.databases import postgres_admin_url, postgres_reachable, throwaway_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path) -> Iterator[Flask]:
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


def test_migrations_build_the_schema_from_empty_and_match_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine().connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": is_modelled}
            )
            drift = compare_metadata(context, Base.metadata)
            tables = set(inspect(connection).get_table_names())
    assert drift == []
    assert {
        "users",
        "teams",
        "team_members",
        "categories",
        "tickets",
        "comments",
        "ticket_events",
        "attachments",
        "ticket_search",
    } <= tables


def test_migrations_downgrade_to_nothing_and_back(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine().connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine().connect() as connection:
            assert "tickets" in inspect(connection).get_table_names()
