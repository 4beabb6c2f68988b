"""The engine, the per-request session and the declarative base every model derives from."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, DateTime, Engine, Executable, MetaData, Result, create_engine, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DisconnectionError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from supportdesk.core.errors import ValidationError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ID_MAX = 2**31 - 1
ModelT = TypeVar("ModelT", bound=Base)


def get_by_id(session: Session, model: type[ModelT], ident: int) -> ModelT | None:
    """`session.get`, answering None for ids no INTEGER column can hold (PostgreSQL would raise)."""
    if not 1 <= ident <= ID_MAX:
        return None
    return session.get(model, ident)


def read_rows(
    session: Session, statement: Executable, values: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Run a statement that reads plain rows (no ORM objects) on the session's connection, after the
    autoflush `session.execute` would do: the ORM's execution layer cost 0.1 ms a statement and has
    nothing to add to plain rows."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values)


def commit_unique(session: Session, field: str, message: str) -> None:
    """Commit, turning a unique-constraint violation into a ValidationError on `field` (the database,
    not a racy look-up first, decides whether a name is taken)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError.single(field, message) from None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the offset, so restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Database:
    """Holds the metadata for Alembic and hands each app context its own session."""

    metadata = Base.metadata

    def init_app(self, app: Flask, url: str) -> None:
        engine = build_engine(url)
        app.extensions["supportdesk.engine"] = engine
        app.extensions["supportdesk.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["supportdesk.reading_sessionmaker"] = sessionmaker(
            bind=engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            info={_READING: True},
        )
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def engine() -> Engine:
        engine: Engine = current_app.extensions["supportdesk.engine"]
        return engine

    @staticmethod
    def session() -> Session:
        """The app context's session. A GET, HEAD or OPTIONS request only reads, so its statements run
        without a transaction: under READ COMMITTED each statement takes its own snapshot either way,
        and BEGIN and COMMIT were two of a page view's round trips to the database. Everything else
        (form posts, API writes, the CLI and the worker) runs in a transaction as usual."""
        if "db_session" not in g:
            reading = has_request_context() and request.method in SAFE_METHODS
            g.db_session = current_app.extensions[
                "supportdesk.reading_sessionmaker" if reading else "supportdesk.sessionmaker"
            ]()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close_session(exc: BaseException | None) -> None:
        """End the request's transaction. One that only read ends with COMMIT: psycopg forgets every
        prepared statement at a ROLLBACK, so ending reads that way made PostgreSQL parse and plan each
        page's statements afresh on every request. Anything that wrote and was not committed, or a
        request that failed, is rolled back as before. A GET's session has no transaction to end."""
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            if exc is None and not session.info.get(_READING) and _only_read(session):
                session.commit()
        except SQLAlchemyError:
            pass  # nothing was written; close() below rolls back and returns the connection
        finally:
            session.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WROTE = "supportdesk.wrote"
_READING = "supportdesk.reading"


def _only_read(session: Session) -> bool:
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active or session.new or session.dirty or session.deleted:
        return False
    return session.connection().info.get(_WROTE) is False


def _track_writes(engine: Engine) -> None:
    """Mark a connection's transaction as having written as soon as it runs anything but a SELECT.

    Without a real transaction (a GET's session), a unit of work may write one statement, which is
    atomic by itself (an API token's "last used" time); a second write before its commit would not be
    atomic with the first, so it is refused rather than half done."""

    @event.listens_for(engine, "begin")
    def _begun(connection: Connection) -> None:
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _executing(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() == "SELECT":
            return
        if connection.info.get(_WROTE) and _outside_a_transaction(connection):
            raise RuntimeError(
                "A second write in one unit of work outside a transaction (a GET request): "
                "it would not be atomic with the first. Make the change in a POST."
            )
        connection.info[_WROTE] = True


def _outside_a_transaction(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # No JIT: compiling a few-millisecond desk query costs PostgreSQL far more than it saves (100 ms
        # on the queue counts at a million tickets); the desk runs no long analytical queries. LIFO: a
        # sync worker keeps reusing its most recent connection, whose statements are already prepared,
        # and connections it no longer needs can time out.
        engine = create_engine(
            url,
            pool_use_lifo=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"options": "-c jit=off"},
        )
        _ping_when_idle(engine)
    _track_writes(engine)
    return engine


# A pooled connection is pinged before use only after sitting idle this long: pinging on every checkout
# cost each request a round trip. A database restart while connections are in steady use fails the
# next statement on each one, which invalidates the pool (one "unavailable" answer per worker), as
# any outage does (`errors.py`).
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "supportdesk.idle_since"


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool replaces this connection and tries again
            raise DisconnectionError("a pooled connection died while idle") from error


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


db = Database()
