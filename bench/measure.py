"""Runs a benchmark's schedule: wrk on one endpoint at a time, the server's CPU (and its database
backends') read before and after every run, progress printed as it goes."""

from __future__ import annotations

import http.client
import json
import random
import resource
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pairing import CEILING, per_request_ms, schedule
from bench.procstat import (
    TICKS_PER_SECOND,
    BackendSampler,
    machine_ticks,
    read_schedstat,
    request_cpu_ms,
    server_ticks,
)
from bench.stats import quantile

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
        minutes, seconds = divmod(int(elapsed), 60)
        return f"{minutes}:{seconds:02} in, about {per_run * (self.total_runs - self.done) / 60:.0f} min left"


def wrk(endpoint: Endpoint, seconds: float, connections: int, env: dict[str, str]) -> dict[str, Any]:
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


def one_user(endpoint: Endpoint, seconds: float, sampler: BackendSampler | None) -> dict[str, Any]:
    """One user at a time, as endpoint.lua would ask, from this process: around every request the CPU
    counters (nanoseconds) of the server's workers and of its database backends are read, so each
    request's own cost is known, not only the run's average. wrk cannot do that; for one connection
    its speed does not matter."""
    settings = endpoint.settings
    method, body = settings.get("SD_METHOD", "GET"), settings.get("SD_BODY")
    first, last = int(settings.get("SD_FIRST", "1001")), int(settings.get("SD_LAST", "1001"))
    headers = {"User-Agent": USER_AGENT}
    for name, variable in (
        ("Authorization", "SD_AUTH"),
        ("Cookie", "SD_COOKIE"),
        ("Content-Type", "SD_CONTENT_TYPE"),
    ):
        if variable in settings:
            headers[name] = settings[variable]
    tag = random.randrange(10**9)

    def counters() -> dict[int, int]:
        pids = [
            int(p)
            for p in Path(f"/proc/{endpoint.server.pid}/task/{endpoint.server.pid}/children")
            .read_text()
            .split()
        ]
        pids += sampler.current.get(endpoint.server.name, []) if sampler else []
        read = {pid: read_schedstat(pid) for pid in pids}
        return {pid: ns for pid, ns in read.items() if ns is not None}

    latencies, costs, errors, socket_errors = [], [], 0, 0
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        path = settings["SD_PATH"].replace("{n}", str(random.randint(first, last)))
        data = body.replace("{i}", f"{tag}-{len(latencies)}").encode() if body else None
        before, sent = counters(), time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", endpoint.server.port, timeout=10)
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            errors += response.status >= 400
            statuses[str(response.status)] += response.status >= 400
        except OSError:
            socket_errors += 1
        latencies.append((time.perf_counter() - sent) * 1000)
        cost = request_cpu_ms(before, counters())
        if cost is not None:
            costs.append(cost)
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "non_2xx_3xx": errors,
        "socket_errors": socket_errors,
        "statuses": {status: count for status, count in statuses.items() if count},
        "p50_ms": quantile(latencies, 0.5),
        "p99_ms": quantile(latencies, 0.99),
        **({"cpu_p50_ms": quantile(costs, 0.5), "cpu_p99_ms": quantile(costs, 0.99)} if costs else {}),
    }


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
    client_before = _client_cpu()
    if int(endpoint.settings.get("SD_CONNECTIONS", connections)) == 1:
        stats = one_user(endpoint, seconds, sampler)
    else:
        stats = wrk(endpoint, seconds, connections, env)
    time.sleep(SETTLE_SECONDS)
    client_cpu = _client_cpu() - client_before
    worker_cpu = (server_ticks(server.pid) - ticks) / TICKS_PER_SECOND
    db_cpu = (sampler.seconds(server.name) - db) if sampler else 0.0
    machine_after = machine_ticks()
    busy = (machine_after.busy - machine.busy) / TICKS_PER_SECOND
    return {
        "name": endpoint.name,
        "round": number,
        "seconds": stats["seconds"],
        "requests": int(stats["requests"]),
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "errors": int(stats["non_2xx_3xx"] + stats["socket_errors"]),
        # What the errors were: HTTP statuses of 400 and over, and sockets that failed or timed out.
        "failures": {
            **stats.get("statuses", {}),
            **({"socket": int(stats["socket_errors"])} if stats["socket_errors"] else {}),
        },
        **{key: round(stats[key], 3) for key in ("cpu_p50_ms", "cpu_p99_ms") if key in stats},
        "worker_cpu_s": round(worker_cpu, 3),
        "db_cpu_s": round(db_cpu, 3),
        "client_cpu_s": round(client_cpu, 3),
        "machine_s": (machine_after.total - machine.total) / TICKS_PER_SECOND,
        "machine_busy_s": busy,
        "machine_steal_s": (machine_after.steal - machine.steal) / TICKS_PER_SECOND,
        "others_cpu_s": round(max(0.0, busy - worker_cpu - db_cpu - client_cpu), 3),
    }


def _client_cpu() -> float:
    """CPU seconds of the load's side: wrk (a finished child) and this process (the one-user client,
    the backend sampler)."""
    total = 0.0
    for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


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
    first_round: int = 1,
) -> list[dict[str, object]]:
    """The ceiling before every endpoint run and after the last (bench/pairing.py), for `rounds` rounds.
    `after_each` runs after every endpoint run, outside the measurement (the creations' clean-up)."""
    by_name = {e.name: e for e in endpoints}
    runs = []
    for number, name in schedule([e.name for e in endpoints], rounds, first_round):
        endpoint = ceiling if name == CEILING else by_name[name]
        run = measure(endpoint, number, seconds=seconds, connections=connections, env=env, sampler=sampler)
        runs.append(run)
        progress.done += 1
        requests = int(run["requests"])  # type: ignore[call-overload]
        worker_ms = per_request_ms(float(run["worker_cpu_s"]), requests)  # type: ignore[arg-type]
        db_ms = per_request_ms(float(run["db_cpu_s"]), requests)  # type: ignore[arg-type]
        others = float(run["others_cpu_s"]) / float(run["machine_s"] or 1)  # type: ignore[arg-type]
        print(
            f"[{progress.label}] {progress.done:3}/{progress.total_runs} round {number:2} {name:26} "
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
