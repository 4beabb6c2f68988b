"""The engine, each app context's session and its units of work, and the declarative base every model
derives from."""

from __future__ import annotations

import enum
import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Executable,
    MetaData,
    Result,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DisconnectionError, IntegrityError
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


def flush_unique(session: Session, field: str, message: str) -> None:
    """Flush, turning a unique-constraint violation into a ValidationError on `field` (the database, not
    a racy look-up first, decides whether a name is taken). The caller's unit of work rolls back."""
    try:
        session.flush()
    except IntegrityError:
        raise ValidationError.single(field, message) from None


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoredEnum(TypeDecorator[enum.StrEnum]):
    """A StrEnum kept as its value in a plain VARCHAR, the same on every backend. A value this release
    does not know, written by a newer release it was rolled back from, loads as a stand-in member of
    the enum (its `value` the stored text, equal to no known member) instead of failing every page
    that lists it: the data half of "expand, then contract" (CONTRIBUTING.md). Writing an unknown
    value is still refused."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> enum.StrEnum | None:  # noqa: ARG002
        if value is None:
            return None
        try:
            return self.enum_class(value)
        except ValueError:
            return stand_in(self.enum_class, value)


@functools.cache
def stand_in(enum_class: type[enum.StrEnum], value: str) -> enum.StrEnum:
    """The one stand-in member for a value `enum_class` does not define (cached, so `is` holds)."""
    member = str.__new__(enum_class, value)
    member._name_ = value.upper()
    member._value_ = value
    return member


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
    """Holds the metadata for Alembic and hands each app context its own session.

    The session reads outside any transaction: every statement sees what is committed when it runs (as
    under READ COMMITTED), with no BEGIN and COMMIT round trips on page views. Code that changes
    something asks for a transaction explicitly (`transaction()`): one unit of work, committed once at
    its end, or rolled back whole when anything in it fails or refuses. A change flushed outside one is
    refused, loudly."""

    metadata = Base.metadata

    def init_app(self, app: Flask, url: str) -> None:
        engine = build_engine(url)
        app.extensions["supportdesk.engine"] = engine
        # Plain sessions in transactions, for scripts and tests that run their own.
        app.extensions["supportdesk.sessionmaker"] = sessionmaker(
            bind=engine, expire_on_commit=False, info={APP_KEY: app}
        )
        app.extensions["supportdesk.reading_sessionmaker"] = sessionmaker(
            bind=engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            info={_READING: True, APP_KEY: app},
        )
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def engine() -> Engine:
        engine: Engine = current_app.extensions["supportdesk.engine"]
        return engine

    @staticmethod
    def session() -> Session:
        """The app context's session (a request's, a command's, a job's)."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["supportdesk.reading_sessionmaker"]()
        session: Session = g.db_session
        return session

    def transaction(self) -> AbstractContextManager[Session]:
        """One unit of work on the app context's session: `with db.transaction() as session: ...`."""
        return unit_of_work(self.session())

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


_READING = "supportdesk.reading"
# Every session knows its app, so what runs at its commit (notifications) can render with the app's
# settings and templates even in a script or test that pushed no app context.
APP_KEY = "supportdesk.app"
_WRITING = "supportdesk.writing"
_AFTER_COMMIT = "supportdesk.after_commit"
# The isolation a unit of work runs at (the databases' defaults), replacing a reading session's autocommit.
_WRITE_ISOLATION = {"postgresql": "READ COMMITTED", "sqlite": "SERIALIZABLE"}


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Run the block in one transaction on `session`: committed when it ends, rolled back (every change
    in it, whoever made it) when it raises. Units of work do not nest."""
    if session.info.get(_WRITING):
        raise RuntimeError("A unit of work is already open on this session; units of work do not nest.")
    if session.in_transaction():
        session.commit()  # ends what the session read so far (nothing to write: a reading session refuses)
    session.connection(
        execution_options={
            "isolation_level": _WRITE_ISOLATION[session.get_bind().dialect.name],
            _WRITING: True,
        }
    )
    session.info[_WRITING] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITING, None)


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's transaction has committed (never when it rolls back): for what
    must only follow a change that happened, such as counting it. It must not use the session. The
    same callback given twice runs once."""
    callbacks = session.info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _forget_callbacks(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


@event.listens_for(Session, "before_flush")
def _refuse_changes_outside_a_unit_of_work(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_READING) and not session.info.get(_WRITING):
        raise RuntimeError(
            "A change outside a unit of work: make it inside `with db.transaction():`, which commits it "
            "once or rolls it back whole."
        )


# How long a SQLite writer waits for the one write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 15.0


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite_unit_of_work)
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


def _begin_sqlite_unit_of_work(connection: Connection) -> None:
    """A unit of work on SQLite takes the write lock at its start (BEGIN IMMEDIATE), so writers take
    turns from their first read: none reads a row another is about to change, and none fails to
    upgrade a read lock halfway (SQLite answers that with "database is locked" at once, whatever the
    busy timeout). Other transactions keep the driver's own deferred BEGIN."""
    if connection.get_execution_options().get(_WRITING):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


db = Database()
