"""`make bench-sqlite`: the embedded mode's budget. Seeds a SQLite file with N tickets (default 100,000;
the file is reused), serves it with one gunicorn worker, and loads every endpoint with one connection
(one user): each page's p99 must be <= 50 ms. Writes bench/results/<date>-sqlite-<N>.md and .json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

os.environ.setdefault("N", "100000")
os.environ["CONNECTIONS"] = "1"

from bench import run
from bench.seed import seed_sqlite

BUDGET_MS = 50.0


def main() -> int:
    path = run.ROOT / "bench" / "results" / f".sqlite-{run.N}.db"
    env = run.app_env(f"sqlite:///{path}")
    marker = path.with_suffix(".json")
    if not (path.exists() and marker.exists()) or os.environ.get("RESEED") == "1":
        path.unlink(missing_ok=True)
        upgrade = [str(run.BIN / "flask"), "--app", "supportdesk.app:create_app", "db", "upgrade"]
        subprocess.run(upgrade, env=env, check=True, capture_output=True)
        marker.write_text(json.dumps(seed_sqlite(str(path), run.N)))
    seed_stats = json.loads(marker.read_text())
    server = run.serve("supportdesk.app:create_app()", run.APP_PORT, env, workers=1)
    try:
        results = run.measure(env, include_ceiling=False)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    report(results, seed_stats, path.stat().st_size / 1e6)
    return 0


def report(results: list[dict[str, object]], seed_stats: dict[str, float], size_mb: float) -> None:
    lines = [
        f"# Embedded SQLite benchmark {date.today()} at N = {run.N:,} tickets",
        "",
        f"gunicorn 1 sync worker, wrk 1 connection (one user) for {run.DURATION} per endpoint, loopback.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | errors | budget |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        p99 = float(r["p99_ms"])  # type: ignore[arg-type]
        errors = int(r["non_2xx_3xx"]) + int(r["socket_errors"])  # type: ignore[call-overload]
        verdict = "met" if p99 <= BUDGET_MS else "MISSED"
        lines.append(
            f"| {r['name']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {p99:.1f} | {errors} | "
            f"{verdict} (p99 <= {BUDGET_MS:.0f} ms) |"
        )
    lines += ["", f"- Seed: {seed_stats}", f"- Database file: {size_mb:.0f} MB"]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(run.ROOT, "bench", "results", f"{date.today()}-sqlite-{run.N}")
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(
        json.dumps({"n": run.N, "results": results, "seed": seed_stats}, indent=2)
    )


if __name__ == "__main__":
    sys.exit(main())
