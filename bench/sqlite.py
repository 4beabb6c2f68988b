"""`make bench-sqlite`: the embedded mode's budget. For each size N (default 100,000; `N=20000,100000`),
seeds a SQLite file (reused after), serves it with one gunicorn worker beside the ceiling app on the same
file, and runs the same paired rounds as `make bench` with one connection (one user): each page's p99
must be <= 50 ms. CPU per request is the worker's alone (SQLite runs inside it). Writes
bench/results/<date>-<time>-sqlite-<sizes>.md and .json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from bench import run
from bench.seed import restore_sqlite, seed_sqlite


def bench_size(n: int) -> dict[str, Any]:
    path = run.RESULTS / f".sqlite-{n}.db"
    env = run.app_env(f"sqlite:///{path}")
    marker = path.with_suffix(".json")
    if not (path.exists() and marker.exists()) or os.environ.get("RESEED") == "1":
        path.unlink(missing_ok=True)
        upgrade = [str(run.BIN / "flask"), "--app", "supportdesk.app:create_app", "db", "upgrade"]
        subprocess.run(upgrade, env=env, check=True, capture_output=True)
        marker.write_text(json.dumps(seed_sqlite(str(path), n)))
    print(
        f"Using {path.name}; removed {restore_sqlite(str(path), n)} tickets an earlier run created",
        flush=True,
    )
    measured = run.measure_size(n, env, 1, 1, restore=lambda: restore_sqlite(str(path), n), database=None)
    return {
        "n": n,
        "seed": json.loads(marker.read_text()),
        "database_mb": round(path.stat().st_size / 2**20),
        **measured,
    }


def main() -> int:
    os.environ.setdefault("N", "100000")
    return run.run_sizes("sqlite", bench_size, workers=1, connections=1)


if __name__ == "__main__":
    sys.exit(main())
