"""`make bench`: seed PostgreSQL with N tickets, serve SupportDesk as in production (gunicorn, 4 sync
workers, DEBUG off) beside a bare Flask ceiling app, load each endpoint with wrk, and report req/s, p50,
p99, errors, ratio to the ceiling's /page, SQL statements per request, worker memory, seed time and
database size against the budgets. Writes bench/results/<date>-<N>.md and .json."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
N = int(os.environ.get("N", "1000000"))
DURATION = os.environ.get("DURATION", "10s")
CONNECTIONS = os.environ.get("CONNECTIONS", "16")
APP_PORT, CEILING_PORT = 5101, 5102
PASSWORD = "bench1234"  # noqa: S105 - the benchmark's own throwaway accounts
# Every request, the sign-in included, comes from one "browser": the desk ties a session to the
# browser that signed in (Flask-Login's session protection), and a session replayed from a client
# that looks different is marked not fresh and re-issued on every response, which no real user sees.
USER_AGENT = "SupportDesk-bench/1"


def main() -> int:
    database = f"supportdesk_bench_{N}"
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    env = app_env(url)
    seed_stats = prepare(url, database, env)
    servers = [
        serve("supportdesk.app:create_app()", APP_PORT, env),
        serve("bench.ceiling:app", CEILING_PORT, env),
    ]
    try:
        results = measure(env)
        rss = worker_rss_mb(servers[0])
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    with psycopg.connect(ADMIN_URL) as conn:
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(%s))", (database,)).fetchone()[0]
    report(results, seed_stats, rss, size)
    return 0


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


def prepare(url: str, database: str, env: dict[str, str]) -> dict[str, float]:
    """Reuse a seeded database of this size if one exists (seeding 1M takes minutes); else build it."""
    upgrade = [str(BIN / "flask"), "--app", "supportdesk.app:create_app", "db", "upgrade"]
    marker = Path(ROOT, "bench", "results", f".seed-{N}.json")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists and marker.exists() and os.environ.get("RESEED") != "1":
            subprocess.run(upgrade, env=env, check=True, capture_output=True)
            from bench.seed import restore

            print(f"Reusing {database}; removed {restore(url, N)} tickets an earlier run created", flush=True)
            return dict(json.loads(marker.read_text()))
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    subprocess.run(upgrade, env=env, check=True, capture_output=True)
    from bench.seed import seed

    stats = seed(url, N)
    marker.write_text(json.dumps(stats))
    return stats


def serve(app: str, port: int, env: dict[str, str], workers: int = 4) -> subprocess.Popen[bytes]:
    """SupportDesk runs with the production settings file (deploy/gunicorn.conf.py: its JSON request log,
    metrics and all, the log going to bench/results/.app-<port>.log); the ceiling with the same worker
    count and nothing else."""
    settings = {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    if "ceiling" in app:
        command = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app]
    else:
        command = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    server = subprocess.Popen(
        command,
        env={**env, **settings, "LOG_FORMAT": "json"},
        cwd=ROOT,
        stderr=Path(ROOT, "bench", "results", f".app-{port}.log").open("wb"),  # noqa: SIM115 - held by the server
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/{'ok' if 'ceiling' in app else 'healthz'}", timeout=2
            )
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{app} did not start")


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


def endpoints() -> list[tuple[str, int, dict[str, str]]]:
    requester_cookie, requester_csrf = session_cookie("user1@bench.example")
    tech_cookie, _ = session_cookie("tech1@bench.example")
    tech_auth = f"Bearer {api_token('tech1@bench.example')}"
    tickets = {"SD_FIRST": "1001", "SD_LAST": str(1000 + N)}
    form_body = (
        f"csrf_token={urllib.parse.quote(requester_csrf)}&subject=Bench+ticket&priority=normal"
        "&description=Created+by+the+benchmark&submission={i}"
    )
    return [
        ("ceiling /ok", CEILING_PORT, {"SD_PATH": "/ok"}),
        ("ceiling /page", CEILING_PORT, {"SD_PATH": "/page"}),
        ("my tickets", APP_PORT, {"SD_PATH": "/portal/", "SD_COOKIE": requester_cookie}),
        ("queue: unassigned", APP_PORT, {"SD_PATH": "/desk/?view=unassigned", "SD_COOKIE": tech_cookie}),
        ("queue: mine", APP_PORT, {"SD_PATH": "/desk/?view=mine", "SD_COOKIE": tech_cookie}),
        ("queue: all open", APP_PORT, {"SD_PATH": "/desk/?view=open", "SD_COOKIE": tech_cookie}),
        ("ticket detail", APP_PORT, {"SD_PATH": "/desk/tickets/{n}", "SD_COOKIE": tech_cookie, **tickets}),
        (
            "search (1% of tickets)",
            APP_PORT,
            {"SD_PATH": "/desk/?view=open&status=closed&q=zebracorn", "SD_COOKIE": tech_cookie},
        ),
        (
            "search, one user at a time",
            APP_PORT,
            {
                "SD_PATH": "/desk/?view=open&status=closed&q=zebracorn",
                "SD_COOKIE": tech_cookie,
                "SD_CONNECTIONS": "1",
            },
        ),
        ("API list", APP_PORT, {"SD_PATH": "/api/v1/tickets?status=open", "SD_AUTH": tech_auth}),
        ("API detail", APP_PORT, {"SD_PATH": "/api/v1/tickets/{n}", "SD_AUTH": tech_auth, **tickets}),
        # The ceiling again after the reads: on a shared 2-core machine it drifts during a run, and
        # the ratios use the faster of the two, so a slow moment for the ceiling never flatters the
        # desk. Before the creations: their thousands of new tickets sit at the top of its query.
        ("ceiling /page (again)", CEILING_PORT, {"SD_PATH": "/page"}),
        (
            "API create",
            APP_PORT,
            {
                "SD_PATH": "/api/v1/tickets",
                "SD_METHOD": "POST",
                "SD_AUTH": tech_auth,
                "SD_CONTENT_TYPE": "application/json",
                "SD_BODY": '{"subject": "Bench {i}", "description": "From the benchmark"}',
            },
        ),
        (
            "form create",
            APP_PORT,
            {
                "SD_PATH": "/portal/new",
                "SD_METHOD": "POST",
                "SD_COOKIE": requester_cookie,
                "SD_CONTENT_TYPE": "application/x-www-form-urlencoded",
                "SD_BODY": form_body,
            },
        ),
    ]


def measure(env: dict[str, str], include_ceiling: bool = True) -> list[dict[str, object]]:
    results = []
    for name, port, settings in endpoints():
        if port == CEILING_PORT and not include_ceiling:
            continue
        run = subprocess.run(
            [
                "wrk",
                f"-c{settings.get('SD_CONNECTIONS', CONNECTIONS)}",
                f"-t{min(2, int(settings.get('SD_CONNECTIONS', CONNECTIONS)))}",
                f"-d{DURATION}",
                "--timeout",
                "10s",
                "-s",
                "bench/endpoint.lua",
                f"http://127.0.0.1:{port}",
            ],
            env={**env, **settings, "SD_USER_AGENT": USER_AGENT},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        stats = json.loads(run.stdout.strip().splitlines()[-1])
        stats["name"] = name
        stats["queries"] = None if port == CEILING_PORT else count_queries(env, settings)
        results.append(stats)
        print(
            f"{name:26} {stats['rps']:8.1f} req/s  p50 {stats['p50_ms']:7.1f} ms  p99 {stats['p99_ms']:7.1f} ms  "
            f"errors {stats['non_2xx_3xx'] + stats['socket_errors']}",
            flush=True,
        )
    return results


def count_queries(env: dict[str, str], settings: dict[str, str]) -> int:
    """SQL statements one request of this endpoint runs (in-process, same database)."""
    os.environ.update(
        {k: v for k, v in env.items() if k.startswith(("DATABASE", "SUPPORTDESK", "SECRET", "LOGIN"))}
    )
    from supportdesk.app import create_app

    app = create_app()
    statements: list[str] = []
    event.listen(
        app.extensions["supportdesk.engine"],
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    headers = {"Authorization": settings["SD_AUTH"]} if "SD_AUTH" in settings else {}
    for pair in filter(None, settings.get("SD_COOKIE", "").split("; ")):
        name, _, value = pair.partition("=")
        client.set_cookie(name, value)
    path = settings["SD_PATH"].replace("{n}", settings.get("SD_FIRST", "1001"))
    body = settings.get("SD_BODY", "").replace("{i}", secrets.token_hex(4))
    client.open(
        path,
        method=settings.get("SD_METHOD", "GET"),
        headers=headers,
        data=body or None,
        content_type=settings.get("SD_CONTENT_TYPE"),
    )
    statements.clear()
    client.open(
        path,
        method=settings.get("SD_METHOD", "GET"),
        headers=headers,
        data=settings.get("SD_BODY", "").replace("{i}", secrets.token_hex(4)) or None,
        content_type=settings.get("SD_CONTENT_TYPE"),
    )
    return len(statements)


def worker_rss_mb(server: subprocess.Popen[bytes]) -> float:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
    return round(max(sizes), 1)


BUDGETS = {
    "my tickets": 0.5,
    "queue: unassigned": 0.5,
    "queue: mine": 0.5,
    "queue: all open": 0.5,
    "API list": 0.5,
    "ticket detail": 0.4,
}


def report(results: list[dict[str, object]], seed_stats: dict[str, float], rss: float, size: str) -> None:
    ceiling = max(float(r["rps"]) for r in results if str(r["name"]).startswith("ceiling /page"))
    lines = [
        f"# Benchmark {date.today()} at N = {N:,} tickets",
        "",
        f"gunicorn 4 sync workers, wrk {CONNECTIONS} connections for {DURATION} per endpoint, loopback. "
        "Ratios are to the faster of the two runs of the ceiling's /page.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | errors | vs ceiling /page | SQL per request | budget |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r["rps"] / ceiling  # type: ignore[operator]
        budget = ""
        if r["name"] in BUDGETS:
            budget = (
                "met" if ratio >= BUDGETS[str(r["name"])] else "MISSED"
            ) + f" (>= {BUDGETS[str(r['name'])]:.0%})"
        elif r["name"] == "search, one user at a time":
            # A search's own latency: under 16 connections on 4 workers most of p99 is queueing (the
            # ceiling's /page itself shows it), which the throughput rows already measure.
            budget = ("met" if r["p99_ms"] <= 100 else "MISSED") + " (p99 <= 100 ms)"  # type: ignore[operator]
        elif "create" in str(r["name"]):
            budget = ("met" if r["rps"] >= 300 else "MISSED") + " (>= 300/s)"  # type: ignore[operator]
        errors = int(r["non_2xx_3xx"]) + int(r["socket_errors"])  # type: ignore[call-overload]
        lines.append(
            f"| {r['name']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {errors} | "
            f"{ratio:.0%} | {r['queries'] if r['queries'] is not None else ''} | {budget} |"
        )
    errors_total = sum(int(r["non_2xx_3xx"]) + int(r["socket_errors"]) for r in results)  # type: ignore[call-overload]
    seed_minutes = float(seed_stats["seed_seconds"]) / 60
    lines += [
        "",
        f"- Errors over all endpoints: {errors_total} ({'met' if errors_total == 0 else 'MISSED'}, budget 0)",
        f"- Seed time: {seed_minutes:.1f} min"
        + (f" ({'met' if seed_minutes < 10 else 'MISSED'}, budget < 10 min at 1M)" if N == 1_000_000 else ""),
        f"- Worker RSS after the run: {rss} MB ({'met' if rss <= 150 else 'MISSED'}, budget 150 MB)",
        f"- Seed: {seed_stats}",
        f"- Database size: {size}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(ROOT, "bench", "results", f"{date.today()}-{N}")
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(
        json.dumps(
            {"n": N, "results": results, "seed": seed_stats, "worker_rss_mb": rss, "database_size": size},
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
