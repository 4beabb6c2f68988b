"""Helpers for migrations that must not stop a live desk.

The lineage record: `alembic_version` holds only the head a database is at. A release that does not know
that revision (the previous one, during a switch or after a rollback) cannot tell from it whether the
schema is newer than its own (fine: migrations are expand-then-contract) or from somewhere else
entirely. So every `flask db upgrade`/`downgrade` also writes the ancestry of the head it leaves
behind into `alembic_lineage`, in the same transaction; `/readyz` of an older release looks for its own
head there.

Index builds on big tables: `create_index_concurrently` builds without blocking writes on PostgreSQL
and gives up rather than queue behind a long lock (a queued DDL lock stops every later query)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

LINEAGE_TABLE = "alembic_lineage"
_metadata = MetaData()
lineage = Table(LINEAGE_TABLE, _metadata, Column("revision", String(64), primary_key=True))


def is_described_by_models(name: str | None, type_: str, parent_names: object = None) -> bool:
    """For schema comparisons: the lineage record is Alembic's bookkeeping (like alembic_version) and
    the search module builds some objects in raw SQL; the models describe everything else."""
    from supportdesk.search.models import is_modelled

    return name != LINEAGE_TABLE and is_modelled(name, type_, parent_names)


def record_lineage(connection: Connection, heads: Sequence[str], script: Any) -> None:
    """Replace the record with every revision the database's heads descend from (heads included).
    `script` is Alembic's ScriptDirectory of the release that ran the migrations."""
    revisions = sorted({revision.revision for revision in script.iterate_revisions(tuple(heads), "base")})
    lineage.create(connection, checkfirst=True)
    connection.execute(delete(lineage))
    if revisions:
        connection.execute(insert(lineage), [{"revision": revision} for revision in revisions])


def recorded_lineage(connection: Connection) -> frozenset[str] | None:
    """The revisions the database's head descends from, or None when no release recorded them."""
    if not connection.dialect.has_table(connection, LINEAGE_TABLE):
        return None
    return frozenset(connection.execute(select(lineage.c.revision)).scalars())


def create_index_concurrently(
    name: str, table: str, columns: Sequence[str], *, lock_timeout: str = "5s", **options: Any
) -> None:
    """Create an index inside a migration. On PostgreSQL: CONCURRENTLY (writes go on while it builds),
    outside the migration's transaction (CONCURRENTLY refuses to run in one), after dropping an
    invalid leftover of an earlier interrupted attempt, with a lock timeout so a long transaction on
    the table makes the migration fail fast instead of queueing every query behind it. Elsewhere: a
    plain CREATE INDEX. `options` are Index() keyword arguments (postgresql_where=..., unique=...)."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, list(columns), **options)
        return
    # One Table for every column: an Index over columns of different Table objects is refused.
    described = Table(table, MetaData(), *(Column(c) for c in columns))
    index = Index(
        name,
        *(described.c[c] for c in columns),
        postgresql_concurrently=True,
        **options,
    )
    statement = str(CreateIndex(index).compile(dialect=op.get_bind().dialect))
    with op.get_context().autocommit_block():
        # The driver's own connection (in autocommit inside this block): the engine's guard against a
        # second write outside a transaction (supportdesk.db) is for requests, not for these steps.
        driver = op.get_bind().connection.driver_connection
        assert driver is not None
        driver.execute(f"SET lock_timeout = '{lock_timeout}'")
        try:
            driver.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
            driver.execute(statement)
        finally:
            driver.execute("RESET lock_timeout")
