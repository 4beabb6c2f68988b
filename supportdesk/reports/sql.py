"""The two time functions the reports need, written for each database: whole seconds since 1970 (to
count per calendar slot) and the seconds between two timestamps (for response times)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[int]):
    """floor(seconds since 1970-01-01 UTC) of a timestamp."""

    type = BigInteger()
    inherit_cache = True


class seconds_between(FunctionElement[float]):
    """(later - earlier) in seconds, with fractions."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; %s drops the fraction (a floor for these dates).
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(seconds_between, "postgresql")
def _between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def slot_of(column: Any, origin: int, slot: int) -> ColumnElement[int]:
    """Which slot (of `slot` seconds, counted from `origin`) a timestamp at or after `origin` lies in."""
    # BIGINT: an origin before 1902 or after 2038 does not fit PostgreSQL's INTEGER.
    return (epoch_seconds(column) - literal(origin, BigInteger)) // literal(slot, BigInteger)
