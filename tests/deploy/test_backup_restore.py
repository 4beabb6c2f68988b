"""deploy/backup.sh and deploy/restore.sh: a backup restored into an empty database gives back every
row and every attached file, and a restore over a damaged database puts it right."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade

from supportdesk.app import create_app
from supportdesk.attachments.service import Upload
from supportdesk.attachments.web import file_store
from supportdesk.core.db import db
from supportdesk.tickets import service
from tests.conftest import make_config
from tests.databases import postgres_admin_url, postgres_reachable, throwaway_postgres_database
from tests.factories import make_requester, make_technician, make_ticket
from tests.security.conftest import snapshot

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture
def desk_in_postgres(tmp_path):
    if not postgres_reachable(postgres_admin_url()) or not shutil.which("pg_dump"):
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL and pg_dump are needed under CI=true")
        pytest.skip("PostgreSQL or pg_dump is missing")
    with throwaway_postgres_database(postgres_admin_url()) as url:
        app = create_app(make_config(url, tmp_path, attachments_path=tmp_path / "attachments"))
        with app.app_context():
            upgrade()
            session = app.extensions["supportdesk.sessionmaker"]()
            requester, tech = make_requester(session), make_technician(session)
            ticket = make_ticket(session, requester, subject="Laptop will not boot")
            service.add_comment(session, tech, ticket.number, "Bring it to the desk, please.")
            session.commit()
            service.add_comment(
                session,
                requester,
                ticket.number,
                "Photo of the screen attached.",
                uploads=[Upload("screen.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x01" * 100))],
                files=file_store(),
            )
            session.commit()
            yield app, url, snapshot(session)
            db.engine().dispose()


def run(script: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(DEPLOY / script), *args], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_backup_restores_every_row_and_file_into_an_empty_database(desk_in_postgres, tmp_path):
    app, url, before = desk_in_postgres
    files = app.config["SUPPORTDESK"].attachments_path
    env = {"DATABASE_URL": url, "ATTACHMENTS_DIR": str(files)}
    dump = Path(run("backup.sh", str(tmp_path / "backups"), env=env).strip())
    archive = next((tmp_path / "backups").glob("attachments-*.tar.gz"))
    assert dump.exists() and oct(dump.stat().st_mode)[-3:] == "600"
    with throwaway_postgres_database(postgres_admin_url()) as empty_url:
        restored_files = tmp_path / "restored-attachments"
        run(
            "restore.sh",
            str(dump),
            str(archive),
            env={"DATABASE_URL": empty_url, "ATTACHMENTS_DIR": str(restored_files)},
        )
        restored = create_app(make_config(empty_url, tmp_path / "restored", attachments_path=restored_files))
        with restored.app_context():
            assert snapshot(db.session()) == before
            assert restored.test_client().get("/readyz").status_code == 200
            db.engine().dispose()
    original = sorted(p.relative_to(files) for p in files.rglob("*") if p.is_file())
    assert original and original == sorted(
        p.relative_to(restored_files) for p in restored_files.rglob("*") if p.is_file()
    )


def test_a_restore_over_a_damaged_database_puts_it_right(desk_in_postgres, tmp_path):
    app, url, before = desk_in_postgres
    dump = run("backup.sh", str(tmp_path / "backups"), env={"DATABASE_URL": url}).strip()
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        connection.execute("DELETE FROM ticket_events")
        connection.execute("DELETE FROM comments")
    run("restore.sh", dump, env={"DATABASE_URL": url})
    with app.app_context():
        assert snapshot(db.session()) == before


def test_restore_refuses_a_file_that_is_not_a_backup(desk_in_postgres, tmp_path):
    _, url, _ = desk_in_postgres
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("not a dump")
    done = subprocess.run(
        [str(DEPLOY / "restore.sh"), str(bogus)],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
