"""The migration chain builds the schema from nothing on both databases, and agrees with the models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select

from supportdesk.accounts.models import User
from supportdesk.app import create_app
from supportdesk.core.db import Base, db
from supportdesk.core.migrating import LINEAGE_TABLE, is_described_by_models
from supportdesk.tickets import paging, reads, service
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
                connection, opts={"compare_type": True, "include_name": is_described_by_models}
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
            assert set(inspect(connection).get_table_names()) <= {"alembic_version", LINEAGE_TABLE}
        upgrade()
        with db.engine().connect() as connection:
            assert "tickets" in inspect(connection).get_table_names()


def _previous_head() -> str:
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_revision(script.get_current_head())
    return str(head.down_revision)


def _alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config as AlembicConfig

    from supportdesk.core.config import MIGRATIONS_DIR as MIGRATIONS

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


# A small desk written the way the previous release stored it (plain SQL: the models are the new ones).
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
OLD_ROWS = {
    "teams": [{"id": 1, "name": "Network", "created_at": NOW}],
    "users": [
        {"id": 1, "email": "ann@example.com", "full_name": "Ann", "role": "requester",
         "password_hash": "x", "is_active": True, "created_at": NOW, "session_epoch": 0},
        {"id": 2, "email": "tom@example.com", "full_name": "Tom", "role": "technician",
         "password_hash": "x", "is_active": True, "created_at": NOW, "session_epoch": 0},
    ],
    "team_members": [{"team_id": 1, "user_id": 2}],
    "categories": [{"id": 1, "name": "VPN", "default_team_id": 1, "is_active": True}],
    "tickets": [
        {"id": 1, "number": 1001, "subject": "VPN drops every hour", "description": "Since Monday.",
         "status": "open", "priority": "high", "requester_id": 1, "assignee_id": 2, "team_id": 1,
         "category_id": 1, "created_at": NOW, "updated_at": NOW, "first_response_at": NOW,
         "resolved_at": None, "closed_at": None, "version": 3},
    ],
    "comments": [
        {"id": 1, "ticket_id": 1, "author_id": 2, "body": "Try the new profile.", "internal": False,
         "created_at": NOW},
        {"id": 2, "ticket_id": 1, "author_id": 2, "body": "Keepalive bug suspected.", "internal": True,
         "created_at": NOW},
    ],
    "ticket_events": [
        {"id": 1, "ticket_id": 1, "actor_id": 1, "kind": "created", "old_value": None, "new_value": "new",
         "comment_id": None, "created_at": NOW},
    ],
    "ticket_search": [
        {"ticket_id": 1, "public_text": "VPN drops every hour\nSince Monday.\nTry the new profile.",
         "internal_text": "Keepalive bug suspected."},
    ],
}  # fmt: skip


def _plain(row: dict[str, object]) -> dict[str, object]:
    """Timestamps as naive UTC: the reflected (pre-model) columns of SQLite give no offset back."""
    return {
        key: value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, datetime) and value.tzinfo
        else value
        for key, value in row.items()
    }


def test_upgrading_a_populated_database_from_the_previous_head_loses_nothing(empty_app):
    with empty_app.app_context():
        upgrade(revision=_previous_head())
        old = MetaData()
        with db.engine().begin() as connection:
            old.reflect(connection)
            for table, rows in OLD_ROWS.items():
                connection.execute(old.tables[table].insert(), rows)
        upgrade()
        with db.engine().connect() as connection:
            for table, rows in OLD_ROWS.items():
                columns = [old.tables[table].c[name] for name in rows[0]]
                stored = connection.execute(select(*columns).order_by(*columns[:1])).mappings().all()
                assert [_plain(dict(row)) for row in stored] == [_plain(row) for row in rows], table
        session = db.session()
        tech = session.get(User, 2)
        ann = session.get(User, 1)
        # The new release reads the old rows: the ticket, its conversation and its search text.
        assert service.get_ticket(session, ann, 1001).subject == "VPN drops every hour"
        assert [c.body for c in reads.list_comments(session, ann, 1001)] == ["Try the new profile."]
        found = reads.list_tickets(session, tech, paging.TicketFilters(text="keepalive")).items
        assert [t.number for t in found] == [1001]
        assert reads.list_tickets(session, ann, paging.TicketFilters(text="keepalive")).items == []
