"""gunicorn settings for SupportDesk in production (`gunicorn -c deploy/gunicorn.conf.py`).

Every value can be overridden from the environment, so systemd units, the container and the smoke
test share this one file."""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

wsgi_app = "supportdesk.app:create_app()"
# The master loads the app once and forks workers from it: a worker replaced after max_requests is up
# in milliseconds instead of the half second of importing and building the app again (with one worker
# every replacement left requests waiting that long). post_fork drops any inherited connection.
preload_app = True
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request is short and database-bound; two per core plus one is gunicorn's advice.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The app writes one JSON line per request itself (with the request id); gunicorn's own log is errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
# Only nginx on this machine may set X-Forwarded-* (the app applies them through ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"  # heartbeat files off the disk (a full or slow disk must not kill workers)

# Prometheus: every worker writes its counters here and /metrics adds them up. One directory per
# instance (by port), emptied at start so a restart does not resurrect old counts.
_port = bind.rsplit(":", 1)[-1]
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"supportdesk-metrics-{_port}")
)


def on_starting(server: object) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """The app is loaded. Move what start-up allocated (~150,000 objects: imports, the app, SQLAlchemy's
    mappers) out of the collector's sight, and collect young objects less often: a page allocates
    thousands of short-lived ones, and full collections walking the start-up objects cost a quarter
    of a millisecond per request on average."""
    gc.freeze()
    gc.set_threshold(7000, 10, 10)


def when_ready(server: Any) -> None:
    """Compile every template once, in the master: each worker (and each replacement after
    max_requests) compiled them again on its first requests, tens of milliseconds of CPU apiece.
    Forked workers share the compiled code."""
    jinja_env = server.app.wsgi().jinja_env
    for name in jinja_env.list_templates(extensions=["html"]):
        jinja_env.get_template(name)


def post_fork(server: object, worker: Any) -> None:
    """A forked worker must never use a database connection its parent opened."""
    worker.app.wsgi().extensions["supportdesk.engine"].dispose(close=False)
