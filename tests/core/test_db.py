"""Engine settings that matter at scale, and how each request's transaction ends."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from supportdesk.accounts.models import Team
from supportdesk.core import db as db_module
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
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


def test_a_unit_of_work_commits_once_at_its_end(clean_app):
    with transaction_ends(clean_app) as ends, clean_app.app_context(), db.transaction() as session:
        session.add(Team(name="One"))
        session.flush()
        session.add(Team(name="Two"))
    assert ends == ["commit"]
    assert teams_named(clean_app, "One") == teams_named(clean_app, "Two") == 1


def test_a_refusal_anywhere_in_a_unit_of_work_rolls_all_of_it_back(clean_app):
    """Whatever was flushed or written with plain SQL before the refusal goes too."""
    insert = text("INSERT INTO teams (name, created_at) VALUES ('Plain SQL', CURRENT_TIMESTAMP)")

    def refuse_after_writing() -> None:
        with db.transaction() as session:
            session.add(Team(name="Flushed"))
            session.flush()
            session.execute(insert)
            raise ValidationError.single("name", "refused after the writes")

    with transaction_ends(clean_app) as ends, clean_app.app_context(), pytest.raises(ValidationError):
        refuse_after_writing()
    assert ends == ["rollback"]
    assert teams_named(clean_app, "Flushed") == teams_named(clean_app, "Plain SQL") == 0


def test_a_change_outside_a_unit_of_work_is_refused_and_never_written(clean_app):
    with clean_app.app_context():
        db.session().add(Team(name="Outside"))
        with pytest.raises(RuntimeError, match="unit of work"):
            db.session().flush()
    assert teams_named(clean_app, "Outside") == 0


def test_units_of_work_do_not_nest(clean_app):
    with clean_app.app_context(), db.transaction(), pytest.raises(RuntimeError, match="do not nest"):
        db.transaction().__enter__()


def test_after_a_unit_of_work_the_session_reads_again(clean_app):
    """A page that changed something reads what it shows afterwards, outside any transaction."""
    with clean_app.app_context():
        with db.transaction() as session:
            session.add(Team(name="Then read"))
        assert db.session().scalar(select(func.count()).select_from(Team)) == 1
        driver = db.session().connection().connection.dbapi_connection
        autocommit = driver.autocommit if hasattr(driver, "autocommit") else driver.isolation_level is None
        assert autocommit


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


def test_a_form_post_makes_its_change_in_one_transaction(clean_app, client, session):
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
    writes = [inside for kind, inside in seen if kind in ("INSERT", "UPDATE", "DELETE")]
    assert writes and all(writes), seen
    assert [kind for kind, _ in seen].count("BEGIN") <= 1, seen


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
    from supportdesk.tickets import reads
    from supportdesk.tickets.paging import TicketFilters

    tech = make_technician(session, email="tech@example.com")
    make_ticket(session, make_requester(session), subject="Printer jammed")
    make_ticket(session, make_requester(session), subject="VPN drops")
    with clean_app.test_request_context("/desk/", method="GET"):
        found = [
            [t.subject for t in reads.list_tickets(db.session(), tech, TicketFilters(text=word)).items]
            for word in ("printer", "vpn", "printer")
        ]
    assert found == [["Printer jammed"], ["VPN drops"], ["Printer jammed"]]
