"""Engine settings that matter at scale."""

import pytest
from sqlalchemy import text


def test_postgresql_sessions_do_not_jit_compile_short_queries(session):
    """JIT compiling a 5 ms desk query cost 100 ms at a million tickets; the desk runs no analytics."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert session.execute(text("SHOW jit")).scalar() == "off"
