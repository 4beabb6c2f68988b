"""Engine settings that matter at scale, and how each request's transaction ends."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from supportdesk.accounts.models import Team
from supportdesk.core import db as db_module
from supportdesk.core.db import db
from tests.conftest import csrf_token, login
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


@contextmanager
def statements_in_a_transaction(app: Flask) -> Iterator[list[tuple[str, bool]]]:
    """Each statement the app runs, and whether the driver held it inside a transaction (psycopg sends a
    BEGIN before it, and a COMMIT or ROLLBACK later) or ran it on its own."""
    seen: list[tuple[str, bool]] = []
    engine = app.extensions["supportdesk.engine"]

    def executing(connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        driver = connection.connection.dbapi_connection
        on_its_own = driver.autocommit if hasattr(driver, "pgconn") else driver.isolation_level is None
        seen.append((statement.split()[0].upper(), not on_its_own))

    event.listen(engine, "before_cursor_execute", executing)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executing)


def test_a_page_view_reads_without_opening_a_transaction(clean_app, client, session):
    """A GET only reads: a transaction around it would cost a BEGIN and a COMMIT round trip on every
    page view and buy nothing (under READ COMMITTED each statement takes its own snapshot anyway)."""
    make_technician(session, email="tech@example.com")
    make_ticket(session, make_requester(session))
    session.close()
    login(client, "tech@example.com")
    with statements_in_a_transaction(clean_app) as seen:
        assert client.get("/desk/?view=open").status_code == 200
        assert client.get("/desk/tickets/1001").status_code == 200
    assert seen and all(kind == "SELECT" and not inside for kind, inside in seen), seen


def test_a_form_post_still_runs_in_one_transaction(clean_app, client, session):
    make_technician(session, email="tech@example.com")
    make_ticket(session, make_requester(session))
    session.close()
    login(client, "tech@example.com")
    token = csrf_token(client, "/desk/tickets/1001")
    with statements_in_a_transaction(clean_app) as seen:
        response = client.post(
            "/desk/tickets/1001/reply", data={"csrf_token": token, "body": "On it", "visibility": "public"}
        )
    assert response.status_code == 302
    assert any(kind == "INSERT" for kind, _ in seen)
    assert all(inside for _, inside in seen), seen


def test_a_read_only_request_may_write_one_statement_at_a_time_but_never_two_unguarded(clean_app):
    """Bookkeeping on a GET (an API token's last use) is one statement, atomic by itself; two writes in
    one unit of work would not be atomic without a transaction, so they are refused, not half done."""
    first = text("INSERT INTO teams (name, created_at) VALUES ('One', CURRENT_TIMESTAMP)")
    second = text("INSERT INTO teams (name, created_at) VALUES ('Two', CURRENT_TIMESTAMP)")
    with clean_app.test_request_context("/", method="GET"):
        db.session().execute(first)
        db.session().commit()
        db.session().execute(second)
        db.session().commit()
        db.session().execute(text("INSERT INTO teams (name, created_at) VALUES ('Three', CURRENT_TIMESTAMP)"))
        fourth = text("INSERT INTO teams (name, created_at) VALUES ('Four', CURRENT_TIMESTAMP)")
        with pytest.raises(RuntimeError, match="outside a transaction"):
            db.session().execute(fourth)
    assert teams_named(clean_app, "One") == teams_named(clean_app, "Two") == 1
    assert teams_named(clean_app, "Four") == 0


def test_a_connection_in_steady_use_is_not_pinged_and_an_idle_dead_one_is_replaced(clean_app, monkeypatch):
    """Pinging before every checkout cost each request a round trip; only a connection that sat idle
    (when a restart or a timeout may have killed it) is checked, and a dead one is replaced unseen."""
    engine = clean_app.extensions["supportdesk.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection):  # type: ignore[no-untyped-def]
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    engine.dispose()
    for _ in range(3):
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    assert pings == []

    # Two connections; the one returned last (and so handed out next) has lost its server process.
    doomed, other = engine.connect().execution_options(isolation_level="AUTOCOMMIT"), engine.connect()
    backend = doomed.execute(text("SELECT pg_backend_pid()")).scalar()
    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    other.close()
    doomed.close()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != backend
    assert len(pings) >= 1


def test_a_page_view_may_run_any_number_of_searches(clean_app, session):
    """Reading is asked for by the code that reads, not guessed from the SQL: PostgreSQL's search
    statement starts with `WITH ... AS MATERIALIZED`, and a page that ran two of them was refused."""
    from supportdesk.tickets import service as tickets

    tech = make_technician(session, email="tech@example.com")
    make_ticket(session, make_requester(session), subject="Printer jammed")
    make_ticket(session, make_requester(session), subject="VPN drops")
    with clean_app.test_request_context("/desk/", method="GET"):
        found = [
            [
                t.subject
                for t in tickets.list_tickets(db.session(), tech, tickets.TicketFilters(text=word)).items
            ]
            for word in ("printer", "vpn", "printer")
        ]
    assert found == [["Printer jammed"], ["VPN drops"], ["Printer jammed"]]
