"""Runs a benchmark's schedule: wrk on one endpoint at a time, the server's CPU (and its database
backends') read before and after every run, progress printed as it goes."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.pairing import CEILING, per_request_ms, schedule
from bench.procstat import TICKS_PER_SECOND, BackendSampler, machine_ticks, server_ticks

ROOT = Path(__file__).resolve().parent.parent
# Every request, the sign-in included, comes from one "browser": the desk ties a session to the
# browser that signed in (Flask-Login's session protection), and a session replayed from a client
# that looks different is marked not fresh and re-issued on every response, which no real user sees.
USER_AGENT = "SupportDesk-bench/1"
# In-flight requests when wrk stops are finished by the server within milliseconds; wait for them so
# their CPU is not counted in the next run.
SETTLE_SECONDS = 0.1


@dataclass(frozen=True)
class Server:
    name: str  # also its PGAPPNAME, by which its database backends are found
    port: int
    pid: int


@dataclass(frozen=True)
class Endpoint:
    name: str
    server: Server
    settings: dict[str, str]  # bench/endpoint.lua's SD_* variables


@dataclass
class Progress:
    label: str  # which size
    total_runs: int
    seconds: float
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    def left(self) -> str:
        elapsed = time.monotonic() - self.started
        per_run = elapsed / self.done if self.done else self.seconds + 0.5
        return f"about {per_run * (self.total_runs - self.done) / 60:.0f} min left"


def wrk(endpoint: Endpoint, seconds: float, connections: int, env: dict[str, str]) -> dict[str, float]:
    connections = int(endpoint.settings.get("SD_CONNECTIONS", connections))
    run = subprocess.run(
        [
            "wrk",
            f"-c{connections}",
            f"-t{min(2, connections)}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            "bench/endpoint.lua",
            f"http://127.0.0.1:{endpoint.server.port}",
        ],
        env={**env, **endpoint.settings, "SD_USER_AGENT": USER_AGENT},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def measure(
    endpoint: Endpoint,
    number: int,
    *,
    seconds: float,
    connections: int,
    env: dict[str, str],
    sampler: BackendSampler | None,
) -> dict[str, object]:
    """One wrk run with what every party spent during it: the server's processes, its database
    backends, wrk itself, and the rest of the machine (other people's work, the hypervisor's)."""
    server = endpoint.server
    ticks, machine = server_ticks(server.pid), machine_ticks()
    db = sampler.seconds(server.name) if sampler else 0.0
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = wrk(endpoint, seconds, connections, env)
    time.sleep(SETTLE_SECONDS)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (server_ticks(server.pid) - ticks) / TICKS_PER_SECOND
    db_cpu = (sampler.seconds(server.name) - db) if sampler else 0.0
    machine_after = machine_ticks()
    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
    busy = (machine_after.busy - machine.busy) / TICKS_PER_SECOND
    return {
        "name": endpoint.name,
        "round": number,
        "seconds": stats["seconds"],
        "requests": int(stats["requests"]),
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "errors": int(stats["non_2xx_3xx"] + stats["socket_errors"]),
        "worker_cpu_s": round(worker_cpu, 3),
        "db_cpu_s": round(db_cpu, 3),
        "wrk_cpu_s": round(wrk_cpu, 3),
        "machine_s": (machine_after.total - machine.total) / TICKS_PER_SECOND,
        "machine_busy_s": busy,
        "machine_steal_s": (machine_after.steal - machine.steal) / TICKS_PER_SECOND,
        "others_cpu_s": round(max(0.0, busy - worker_cpu - db_cpu - wrk_cpu), 3),
    }


def run_schedule(
    ceiling: Endpoint,
    endpoints: Sequence[Endpoint],
    *,
    rounds: int,
    seconds: float,
    connections: int,
    env: dict[str, str],
    sampler: BackendSampler | None,
    progress: Progress,
    after_each: Callable[[Endpoint], None] | None = None,
) -> list[dict[str, object]]:
    """The ceiling before every endpoint run and after the last (bench/pairing.py), for `rounds` rounds.
    `after_each` runs after every endpoint run, outside the measurement (the creations' clean-up)."""
    by_name = {e.name: e for e in endpoints}
    runs = []
    for number, name in schedule([e.name for e in endpoints], rounds):
        endpoint = ceiling if name == CEILING else by_name[name]
        run = measure(endpoint, number, seconds=seconds, connections=connections, env=env, sampler=sampler)
        runs.append(run)
        progress.done += 1
        requests = int(run["requests"])  # type: ignore[call-overload]
        worker_ms = per_request_ms(float(run["worker_cpu_s"]), requests)  # type: ignore[arg-type]
        db_ms = per_request_ms(float(run["db_cpu_s"]), requests)  # type: ignore[arg-type]
        others = float(run["others_cpu_s"]) / float(run["machine_s"] or 1)  # type: ignore[arg-type]
        print(
            f"[{progress.label}] {progress.done:3}/{progress.total_runs} round {number}/{rounds} {name:26} "
            f"{requests / float(run['seconds']):7.1f} req/s  CPU/request {worker_ms:5.2f} ms + db {db_ms:4.2f}  "  # type: ignore[arg-type]
            f"p99 {float(run['p99_ms']):6.1f} ms  errors {run['errors']}  others {others:4.0%}  "  # type: ignore[arg-type]
            f"({progress.left()})",
            flush=True,
        )
        if after_each and name != CEILING:
            after_each(endpoint)
    return runs


def warm_up(
    endpoints: Sequence[Endpoint], connections: int, env: dict[str, str], seconds: float = 1.0
) -> None:
    """A second of each read first: the page cache, each worker's connection and prepared statements,
    its brief caches. Not recorded."""
    for endpoint in endpoints:
        wrk(endpoint, seconds, connections, env)
