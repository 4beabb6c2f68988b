"""Paired, interleaved measurement. The ceiling's /page runs before every endpoint run and once after
the last (C a C b C c ... C), and each endpoint run is compared with the mean of the two ceiling runs
beside it: whatever the machine was doing during those seconds weighs on both sides of the ratio, and
a slow drift over the pair cancels out. Every other round walks the endpoints backwards, so no endpoint
always follows the same neighbour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

CEILING = "ceiling /page"


def schedule(endpoints: Sequence[str], rounds: int, first_round: int = 1) -> list[tuple[int, str]]:
    """(round, name) in the order they run; a ceiling run carries the round of the run it follows."""
    order = [(first_round, CEILING)]
    for number in range(first_round, first_round + rounds):
        names = endpoints if number % 2 else list(reversed(endpoints))
        for name in names:
            order += [(number, name), (number, CEILING)]
    return order


@dataclass(frozen=True)
class Run:
    """One wrk run and what the server's processes spent serving it."""

    name: str
    round: int
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int
    worker_cpu_s: float  # the gunicorn master, its workers and the workers it replaced
    db_cpu_s: float = 0.0  # the PostgreSQL backends serving that server (0 for SQLite: in the workers)
    cpu_p99_ms: float = math.nan  # one user at a time: the p99 of what each request cost them

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def per_request_ms(cpu_seconds: float, requests: int) -> float:
    return _divide(cpu_seconds * 1000, requests)


def _divide(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


@dataclass(frozen=True)
class Pair:
    run: Run
    ceilings: tuple[Run, ...]

    def figures(self, cores: int) -> dict[str, float]:
        run, ceilings = self.run, self.ceilings
        worker_ms = per_request_ms(run.worker_cpu_s, run.requests)
        db_ms = per_request_ms(run.db_cpu_s, run.requests)
        ceiling_worker_ms = fmean(per_request_ms(c.worker_cpu_s, c.requests) for c in ceilings)
        ceiling_db_ms = fmean(per_request_ms(c.db_cpu_s, c.requests) for c in ceilings)
        cpu_ms, ceiling_cpu_ms = worker_ms + db_ms, ceiling_worker_ms + ceiling_db_ms
        return {
            "rps": run.rps,
            "ratio": run.rps / fmean(c.rps for c in ceilings),
            "worker_ms": worker_ms,
            "db_ms": db_ms,
            "cpu_ms": cpu_ms,
            "ceiling_rps": fmean(c.rps for c in ceilings),
            "ceiling_worker_ms": ceiling_worker_ms,
            "ceiling_db_ms": ceiling_db_ms,
            "ceiling_cpu_ms": ceiling_cpu_ms,
            # The share of the ceiling's throughput the endpoint reaches when CPU is all that limits
            # both (as on a server that runs no load generator and nobody else's work).
            "cpu_ratio": _divide(ceiling_cpu_ms, cpu_ms),
            # Requests per second the machine's cores would serve with nothing else to run.
            "capacity": _divide(cores * 1000, cpu_ms),
            "p50_ms": run.p50_ms,
            "p99_ms": run.p99_ms,
            "cpu_p99_ms": run.cpu_p99_ms,
            "errors": run.errors,
        }


def pair_runs(runs: Sequence[Run]) -> list[Pair]:
    """Each endpoint run with the nearest ceiling run before it and the nearest after it."""
    ceilings = [i for i, r in enumerate(runs) if r.name == CEILING]
    pairs = []
    for i, run in enumerate(runs):
        if run.name == CEILING:
            continue
        before = [runs[c] for c in ceilings if c < i][-1:]
        after = [runs[c] for c in ceilings if c > i][:1]
        if not before + after:
            raise ValueError(f"{run.name} (round {run.round}) has no ceiling run to be compared with")
        pairs.append(Pair(run, tuple(before + after)))
    return pairs
