"""Engine settings that matter at scale, and how each request's transaction ends."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from supportdesk.accounts.models import Team
from supportdesk.db import db
from tests.conftest import login
from tests.factories import make_requester, make_technician, make_ticket


def test_postgresql_sessions_do_not_jit_compile_short_queries(session):
    """JIT compiling a 5 ms desk query cost 100 ms at a million tickets; the desk runs no analytics."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert session.execute(text("SHOW jit")).scalar() == "off"


@contextmanager
def transaction_ends(app: Flask) -> Iterator[list[str]]:
    """How each transaction on the app's engine ended ("commit" or "rollback"), in order."""
    ends: list[str] = []
    engine = app.extensions["supportdesk.engine"]

    def committed(_conn):  # type: ignore[no-untyped-def]
        ends.append("commit")

    def rolled_back(_conn):  # type: ignore[no-untyped-def]
        ends.append("rollback")

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    try:
        yield ends
    finally:
        event.remove(engine, "commit", committed)
        event.remove(engine, "rollback", rolled_back)


def teams_named(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Team).where(Team.name == name)) or 0


def test_a_request_that_only_read_ends_its_transaction_with_commit(clean_app):
    """psycopg forgets every prepared statement at a ROLLBACK; a transaction that wrote nothing loses
    nothing by committing instead, and keeps them for the next request."""
    with transaction_ends(clean_app) as ends, clean_app.app_context():
        db.session().execute(select(func.count()).select_from(Team)).scalar()
    assert ends == ["commit"]


def test_a_request_that_flushed_a_change_without_committing_is_rolled_back(clean_app):
    with transaction_ends(clean_app) as ends, clean_app.app_context():
        db.session().add(Team(name="Never committed"))
        db.session().flush()
    assert ends == ["rollback"]
    assert teams_named(clean_app, "Never committed") == 0


def test_a_request_with_a_pending_change_is_rolled_back_not_flushed(clean_app):
    with transaction_ends(clean_app) as ends, clean_app.app_context():
        db.session().execute(select(func.count()).select_from(Team)).scalar()
        db.session().add(Team(name="Only pending"))
    assert ends == ["rollback"]
    assert teams_named(clean_app, "Only pending") == 0


def test_a_request_that_wrote_with_plain_sql_is_rolled_back(clean_app):
    insert = text("INSERT INTO teams (name, created_at) VALUES ('Plain SQL', CURRENT_TIMESTAMP)")
    with transaction_ends(clean_app) as ends, clean_app.app_context():
        db.session().execute(insert)
    assert ends == ["rollback"]
    assert teams_named(clean_app, "Plain SQL") == 0


def read_then_fail(app: Flask) -> None:
    with app.app_context():
        db.session().execute(select(func.count()).select_from(Team)).scalar()
        raise RuntimeError("the view failed")


def test_a_request_that_failed_is_rolled_back(clean_app):
    with transaction_ends(clean_app) as ends, pytest.raises(RuntimeError, match="the view failed"):
        read_then_fail(clean_app)
    assert ends == ["rollback"]


def test_postgresql_keeps_one_plan_for_the_queue_page_across_requests(clean_app, client, session):
    """The queue page's list statement is prepared once per connection and planned once (a generic
    plan), instead of being parsed and planned on every page view."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    make_technician(session, email="tech@example.com")
    make_ticket(session, make_requester(session))
    session.close()
    login(client, "tech@example.com")
    for _ in range(15):
        assert client.get("/desk/?view=unassigned").status_code == 200
    with clean_app.extensions["supportdesk.engine"].connect() as connection:
        plans = connection.execute(
            text(
                "SELECT generic_plans FROM pg_prepared_statements "
                "WHERE statement LIKE 'SELECT tickets.id%' AND statement LIKE '%LIMIT 26%'"
            )
        ).all()
    assert plans and plans[0].generic_plans >= 5, plans
