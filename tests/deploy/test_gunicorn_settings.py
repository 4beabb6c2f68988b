"""What deploy/gunicorn.conf.py does to each worker once the app is loaded."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER_START = """
import gc, runpy
settings = runpy.run_path("deploy/gunicorn.conf.py")
objects_before = len(gc.get_objects())
settings["post_worker_init"](None)
print(gc.get_freeze_count() >= objects_before, gc.get_threshold()[0])
"""


def test_a_worker_moves_its_start_up_objects_out_of_the_collectors_way():
    """A full collection walked ~150,000 start-up objects (imports, the app, SQLAlchemy's mappers): a
    quarter of a millisecond per request on average. Frozen, and with young objects collected less
    often, the collector only looks at what requests allocate."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER_START], cwd=ROOT, capture_output=True, text=True, check=True
    )
    frozen, young_threshold = result.stdout.split()
    assert frozen == "True"
    assert int(young_threshold) >= 5000


MASTER_LOADS_WORKER_FORKS = """
import runpy, sys
from types import SimpleNamespace
from sqlalchemy import create_engine, text
settings = runpy.run_path("deploy/gunicorn.conf.py")
engine = create_engine("sqlite:///" + sys.argv[1])
with engine.connect() as connection:
    connection.execute(text("SELECT 1"))
app = SimpleNamespace(extensions={"supportdesk.engine": engine})
settings["post_fork"](None, SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)))
print(settings.get("preload_app"), engine.pool.checkedin())
"""


def test_the_app_is_loaded_once_and_each_worker_starts_without_inherited_connections(tmp_path):
    """A worker that reaches max_requests is replaced by a fork of the loaded app, not by importing
    and building it again: with one worker (the embedded mode) each replacement left requests waiting
    half a second, every ~5,000 requests. A forked worker must not share its parent's connections."""
    result = subprocess.run(
        [sys.executable, "-c", MASTER_LOADS_WORKER_FORKS, str(tmp_path / "fork.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["True", "0"]


MASTER_COMPILES_TEMPLATES = """
import os, runpy, sys
from types import SimpleNamespace
os.environ.update(SUPPORTDESK_ENV="test", DATABASE_URL="sqlite:///" + sys.argv[1],
                  SUPPORTDESK_INSTANCE=sys.argv[2], SECRET_KEY="a-secret-key-long-enough-for-the-check")
from supportdesk.app import create_app
app = create_app()
settings = runpy.run_path("deploy/gunicorn.conf.py")
settings["when_ready"](SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)))
names = set(app.jinja_env.list_templates(extensions=["html"]))
compiled = {key[1] for key in app.jinja_env.cache.keys()}
print(len(names), len(names - compiled))
"""


def test_the_master_compiles_every_template_once_before_forking_workers(tmp_path):
    """Each worker (and each replacement after max_requests) compiled every template again on its first
    requests, tens of milliseconds of CPU each; compiled once in the master, forks share them."""
    result = subprocess.run(
        [sys.executable, "-c", MASTER_COMPILES_TEMPLATES, str(tmp_path / "t.db"), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    templates, not_compiled = map(int, result.stdout.split())
    assert templates > 10 and not_compiled == 0
