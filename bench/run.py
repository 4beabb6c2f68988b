"""`make bench`: for each size N (`N=100000,1000000`), seed PostgreSQL with N tickets (or reuse the
database seeded before), serve SupportDesk as in production (gunicorn, 4 sync workers, DEBUG off) beside
a bare Flask ceiling app, and load one endpoint at a time with wrk, every endpoint run between two runs
of the ceiling's /page, for several rounds (bench/pairing.py). Each run records requests, latency,
errors and the CPU the server's processes and their database backends spent (bench/procstat.py). Writes
bench/results/<date>-<time>-<sizes>.json (every run) and .md (bench/report.py), after each size.

Settings from the environment: N (sizes, comma-separated), ROUNDS (9), SECONDS per run (4), RESEED=1."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from bench.measure import USER_AGENT, Endpoint, Progress, Server, run_schedule, warm_up
from bench.procstat import BackendSampler
from bench.report import render, undecided

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROUNDS = int(os.environ.get("ROUNDS", "9"))
# Rounds of their own for budgets still too noisy to say after ROUNDS (bench/run.py::more_rounds).
EXTRA_ROUNDS = int(os.environ.get("EXTRA_ROUNDS", "9"))
EXTRA_ROUNDS_BATCH = 3
SECONDS = float(os.environ.get("SECONDS", "4"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "16"))
WORKERS = 4
CORES = os.cpu_count() or 1
APP_PORT = int(os.environ.get("BENCH_PORT", "5101"))  # and the next one for the ceiling
CEILING_PORT = APP_PORT + 1
APP, CEILING = "bench-app", "bench-ceiling"
PASSWORD = "bench1234"  # noqa: S105 - the benchmark's own throwaway accounts
CREATIONS = ("API create", "form create")
_processes: dict[int, subprocess.Popen[bytes]] = {}


def parse_sizes(text: str) -> list[int]:
    """ "100000,1000000" (underscores allowed) -> [100000, 1000000]."""
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"N must be one or more positive sizes, not {text!r}")
    return sizes


def main() -> int:
    return run_sizes("postgresql", bench_size, WORKERS, CONNECTIONS)


def run_sizes(
    database: str, bench_size: Callable[[int], dict[str, Any]], workers: int, connections: int
) -> int:
    """Every size in turn; the result files are rewritten after each, so a failure keeps what was done."""
    sizes = parse_sizes(os.environ.get("N", "1000000"))
    # Stopped from outside, still stop the servers it started (the `finally` in measure_size).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now()
    result: dict[str, Any] = {
        "database": database,
        "started": started.isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
        "settings": {
            "rounds": ROUNDS,
            "seconds": SECONDS,
            "connections": connections,
            "workers": workers,
            "cores": CORES,
        },
        "sizes": [],
    }
    kind = "" if database == "postgresql" else f"{database}-"
    out = RESULTS / f"{started:%Y-%m-%d-%H%M}-{kind}{'-'.join(map(str, sizes))}"
    print(
        f"{database} at N = {', '.join(f'{n:,}' for n in sizes)}: {ROUNDS} rounds of {SECONDS:g} s per endpoint, "
        f"about {len(sizes) * run_minutes():.0f} min after seeding. Results: {out.relative_to(ROOT)}.md",
        flush=True,
    )
    for n in sizes:
        result["sizes"].append(bench_size(n))
        out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
        out.with_suffix(".md").write_text(render(result))
    print(render(result))
    return 0


def run_minutes(reads: int = 10, creations: int = len(CREATIONS)) -> float:
    runs = (1 + 2 * ROUNDS * reads) + (1 + 2 * ROUNDS * creations)
    return runs * (SECONDS + 0.4) / 60 + 1


def bench_size(n: int) -> dict[str, Any]:
    database = f"supportdesk_bench_{n}"
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    env = app_env(url)
    seed_stats = prepare(url, database, env, n)
    from bench.seed import restore

    measured = measure_size(
        n,
        env,
        WORKERS,
        CONNECTIONS,
        restore=lambda: restore(url, n, tokens=False, app=APP),
        database=database,
    )
    with psycopg.connect(ADMIN_URL) as conn:
        size = conn.execute("SELECT pg_database_size(%s)", (database,)).fetchone()[0]  # type: ignore[index]
    return {"n": n, "seed": seed_stats, "database_mb": round(size / 2**20), **measured}


def measure_size(
    n: int,
    env: dict[str, str],
    workers: int,
    connections: int,
    *,
    restore: Callable[[], object],
    database: str | None,
) -> dict[str, Any]:
    """Serve the desk and the ceiling, count each endpoint's statements, then the paired rounds: the
    reads, and the creations last, each followed by `restore` (removing what it created: thousands of
    new tickets would otherwise sit at the top of the queues and of the ceiling's query in later runs).
    `database`: the PostgreSQL database whose backends' CPU to follow (None: SQLite, in the workers)."""
    app = serve("supportdesk.app:create_app()", APP, APP_PORT, env, workers)
    try:
        ceiling = serve("bench.ceiling:app", CEILING, CEILING_PORT, env, workers)
    except RuntimeError:
        stop(app.pid)
        raise
    sampler = BackendSampler(ADMIN_URL, database, [APP, CEILING]) if database else None
    if sampler:
        sampler.start()
    try:
        reads, creations, ceiling_page = endpoints(app, ceiling, n)
        queries = {e.name: count_queries(env, e.settings) for e in [*reads, *creations] if e.server is app}
        restore()
        label = f"N={n:,}"
        progress = Progress(label, 2 + 2 * ROUNDS * (len(reads) + len(creations)), SECONDS)
        print(f"[{label}] warming up", flush=True)
        warm_up([ceiling_page, *reads], connections, env)
        settings = {
            "rounds": ROUNDS,
            "seconds": SECONDS,
            "connections": connections,
            "env": env,
            "sampler": sampler,
        }
        runs = run_schedule(ceiling_page, reads, progress=progress, **settings)  # type: ignore[arg-type]
        runs += more_rounds(ceiling_page, reads, runs, progress=progress, database=database, **settings)
        created = run_schedule(
            ceiling_page,
            creations,
            progress=progress,
            after_each=lambda _endpoint: restore(),
            **settings,  # type: ignore[arg-type]
        )
        created += more_rounds(
            ceiling_page,
            creations,
            created,
            progress=progress,
            database=database,
            after_each=lambda _endpoint: restore(),
            **settings,
        )
        runs += created
        rss = worker_rss_mb(app.pid)
        print(f"[{label}] the CSV export of every ticket (the background job)", flush=True)
        export = measure_export(env)
    finally:
        for server in (app, ceiling):
            stop(server.pid)
        if sampler:
            sampler.stop()
    return {"worker_rss_mb": rss, "queries": queries, "runs": runs, "export": export}


def more_rounds(
    ceiling: Endpoint,
    endpoints: list[Endpoint],
    runs: list[dict[str, Any]],
    *,
    database: str | None,
    progress: Progress,
    **settings: Any,
) -> list[dict[str, Any]]:
    """Rounds of their own, EXTRA_ROUNDS_BATCH at a time up to EXTRA_ROUNDS, for the endpoints whose
    budget the rounds so far leave too noisy to say (bench/report.py::undecided): the median and the
    quartiles of more rounds move less from one run to the next, so a second run reaches the same
    verdict more often. A budget whose median sits within the repeat margin of its line stays too
    noisy to say, however many rounds it gets."""
    extra: list[dict[str, Any]] = []
    kind = "postgresql" if database else "sqlite"
    settings.pop("rounds", None)  # the planned rounds'; these have their own
    while len({int(r["round"]) for r in extra}) < EXTRA_ROUNDS:
        names = set(undecided(kind, CORES, [*runs, *extra]))
        again = [e for e in endpoints if e.name in names]
        if not again:
            break
        batch = min(EXTRA_ROUNDS_BATCH, EXTRA_ROUNDS - len({int(r["round"]) for r in extra}))
        print(f"[{progress.label}] {batch} more rounds for {', '.join(e.name for e in again)}", flush=True)
        progress.total_runs += 1 + 2 * batch * len(again)
        first = max(int(r["round"]) for r in [*runs, *extra]) + 1
        extra += run_schedule(ceiling, again, rounds=batch, progress=progress, first_round=first, **settings)
    return extra


def app_env(database_url: str) -> dict[str, str]:
    """Production mode on plain-HTTP loopback, with sign-in limits the benchmark's own logins fit in."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SUPPORTDESK_ENV": "production",
        "SUPPORTDESK_INSTANCE": tempfile.mkdtemp(),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "SESSION_COOKIE_SECURE": "0",
    }


def prepare(url: str, database: str, env: dict[str, str], n: int) -> dict[str, Any]:
    """Reuse a seeded database of this size if one exists (seeding 1M takes minutes); else build it."""
    upgrade = [str(BIN / "flask"), "--app", "supportdesk.app:create_app", "db", "upgrade"]
    marker = RESULTS / f".seed-{n}.json"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists and marker.exists() and os.environ.get("RESEED") != "1":
            subprocess.run(upgrade, env=env, check=True, capture_output=True)
            from bench.seed import restore

            print(f"Reusing {database}; removed {restore(url, n)} tickets an earlier run created", flush=True)
            return dict(json.loads(marker.read_text()))
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    subprocess.run(upgrade, env=env, check=True, capture_output=True)
    from bench.seed import seed

    stats = seed(url, n)
    marker.write_text(json.dumps(stats))
    return stats


def serve(app: str, name: str, port: int, env: dict[str, str], workers: int) -> Server:
    """SupportDesk runs with the production settings file (deploy/gunicorn.conf.py: its JSON request log,
    metrics and all, the log going to bench/results/.app-<port>.log); the ceiling with the same worker
    count and nothing else. PGAPPNAME names each one's database backends for the CPU sampler."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken (a server left by an interrupted run?)")
    settings = {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers), "PGAPPNAME": name}
    if "ceiling" in app:
        command = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app]
    else:
        command = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    process = subprocess.Popen(
        command,
        env={**env, **settings, "LOG_FORMAT": "json"},
        cwd=ROOT,
        stderr=Path(RESULTS, f".app-{port}.log").open("wb"),  # noqa: SIM115 - held by the server
        start_new_session=True,
    )
    _processes[process.pid] = process
    for _ in range(100):
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/{'ok' if 'ceiling' in app else 'healthz'}", timeout=2
            )
            return Server(name, port, process.pid)
        except OSError:
            time.sleep(0.2)
    stop(process.pid)
    raise RuntimeError(f"{app} did not start (see bench/results/.app-{port}.log)")


def stop(pid: int) -> None:
    """The whole server (master and workers: their own session), then reap the master."""
    process = _processes.pop(pid)
    if process.poll() is None:
        os.killpg(pid, signal.SIGTERM)
    process.wait(timeout=30)


def session_cookie(email: str) -> tuple[str, str]:
    """Sign in through the real form: (Cookie header, CSRF token)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"http://127.0.0.1:{APP_PORT}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(f"http://127.0.0.1:{APP_PORT}/login", data=data)
    form = opener.open(f"http://127.0.0.1:{APP_PORT}/portal/new").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return "; ".join(f"{c.name}={c.value}" for c in jar), csrf


def api_token(email: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{APP_PORT}/api/v1/tokens",
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        data=json.dumps({"email": email, "password": PASSWORD, "name": "bench"}).encode(),
    )
    return str(json.loads(urllib.request.urlopen(request).read())["token"])


GLOBAL_SEARCH = "/desk/search?q=zebracorn"


def endpoints(app: Server, ceiling: Server, n: int) -> tuple[list[Endpoint], list[Endpoint], Endpoint]:
    """(the reads, the creations, the ceiling's /page every run is paired with)."""
    requester_cookie, requester_csrf = session_cookie("user1@bench.example")
    tech_cookie, _ = session_cookie("tech1@bench.example")
    admin_cookie, _ = session_cookie("admin@bench.example")
    tech_auth = f"Bearer {api_token('tech1@bench.example')}"
    tickets = {"SD_FIRST": "1001", "SD_LAST": str(1000 + n)}
    search = "/desk/?view=open&status=closed&q=zebracorn"
    form_body = (
        f"csrf_token={urllib.parse.quote(requester_csrf)}&subject=Bench+ticket&priority=normal"
        "&description=Created+by+the+benchmark&submission={i}"
    )
    reads = [
        Endpoint("ceiling /ok", ceiling, {"SD_PATH": "/ok"}),
        Endpoint("my tickets", app, {"SD_PATH": "/portal/", "SD_COOKIE": requester_cookie}),
        Endpoint("queue: unassigned", app, {"SD_PATH": "/desk/?view=unassigned", "SD_COOKIE": tech_cookie}),
        Endpoint("queue: mine", app, {"SD_PATH": "/desk/?view=mine", "SD_COOKIE": tech_cookie}),
        Endpoint("queue: all open", app, {"SD_PATH": "/desk/?view=open", "SD_COOKIE": tech_cookie}),
        Endpoint("ticket detail", app, {"SD_PATH": "/desk/tickets/{n}", "SD_COOKIE": tech_cookie, **tickets}),
        Endpoint("search (1% of tickets)", app, {"SD_PATH": search, "SD_COOKIE": tech_cookie}),
        # The search's own latency: under 16 connections on 4 workers most of p99 is queueing.
        Endpoint(
            "search, one user at a time",
            app,
            {"SD_PATH": search, "SD_COOKIE": tech_cookie, "SD_CONNECTIONS": "1"},
        ),
        # The top bar's search (issue 15): every status, words and requesters' names at once.
        Endpoint("global search", app, {"SD_PATH": GLOBAL_SEARCH, "SD_COOKIE": tech_cookie}),
        Endpoint(
            "global search, one user at a time",
            app,
            {"SD_PATH": GLOBAL_SEARCH, "SD_COOKIE": tech_cookie, "SD_CONNECTIONS": "1"},
        ),
        Endpoint("API list", app, {"SD_PATH": "/api/v1/tickets?status=open", "SD_AUTH": tech_auth}),
        # The desk lead's Monday page (issue 22): the default range, four weeks, for the whole desk.
        Endpoint("reports: four weeks", app, {"SD_PATH": REPORTS_PATH, "SD_COOKIE": admin_cookie}),
        Endpoint(
            "reports, one user at a time",
            app,
            {"SD_PATH": REPORTS_PATH, "SD_COOKIE": admin_cookie, "SD_CONNECTIONS": "1"},
        ),
        Endpoint("API detail", app, {"SD_PATH": "/api/v1/tickets/{n}", "SD_AUTH": tech_auth, **tickets}),
    ]
    creations = [
        Endpoint(
            "API create",
            app,
            {
                "SD_PATH": "/api/v1/tickets",
                "SD_METHOD": "POST",
                "SD_AUTH": tech_auth,
                "SD_CONTENT_TYPE": "application/json",
                "SD_BODY": '{"subject": "Bench {i}", "description": "From the benchmark"}',
            },
        ),
        Endpoint(
            "form create",
            app,
            {
                "SD_PATH": "/portal/new",
                "SD_METHOD": "POST",
                "SD_COOKIE": requester_cookie,
                "SD_CONTENT_TYPE": "application/x-www-form-urlencoded",
                "SD_BODY": form_body,
            },
        ),
    ]
    return reads, creations, Endpoint("ceiling /page", ceiling, {"SD_PATH": "/page"})


def reports_path() -> str:
    """The reports page's default range (the four weeks to the last day) at the seeded desk's "now"
    (the seed's tickets end there; the machine's today would show the weeks after it, empty)."""
    from bench.seed import NOW

    last = (NOW - timedelta(days=1)).date()
    return f"/reports/?from={last - timedelta(days=27)}&to={last}"


REPORTS_PATH = reports_path()


def measure_export(env: dict[str, str]) -> dict[str, Any]:
    """The export of every ticket as the desk makes a long list's: the background job, in a process of
    its own as a job worker runs it (bench/export_job.py), timed to its last row, its RSS sampled."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.export_job", "tech1@bench.example"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        print(f"  the export job failed: {run.stderr.strip().splitlines()[-1:]}", flush=True)
        return {"rows": 0, "seconds": 1.0, "worker_rss_mb_max": 0.0, "error": run.stderr[-2000:]}
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def count_queries(env: dict[str, str], settings: dict[str, str]) -> int:
    """SQL statements one request of this endpoint runs (in-process, same database), after one request
    that warms what the app keeps between requests."""
    os.environ.update(
        {k: v for k, v in env.items() if k.startswith(("DATABASE", "SUPPORTDESK", "SECRET", "LOGIN"))}
    )
    from supportdesk.app import create_app

    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)  # the app's request log would fill the progress output
    engine = app.extensions["supportdesk.engine"]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    headers = {"Authorization": settings["SD_AUTH"]} if "SD_AUTH" in settings else {}
    for pair in filter(None, settings.get("SD_COOKIE", "").split("; ")):
        name, _, value = pair.partition("=")
        client.set_cookie(name, value)
    path = settings["SD_PATH"].replace("{n}", settings.get("SD_FIRST", "1001"))
    for _ in range(2):
        statements.clear()
        client.open(
            path,
            method=settings.get("SD_METHOD", "GET"),
            headers=headers,
            data=settings.get("SD_BODY", "").replace("{i}", secrets.token_hex(4)) or None,
            content_type=settings.get("SD_CONTENT_TYPE"),
        )
    engine.dispose()
    return len(statements)


def worker_rss_mb(master_pid: int) -> float:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
    return round(max(sizes), 1)


if __name__ == "__main__":
    sys.exit(main())
