"""CPU time spent by the processes serving the benchmark, read from /proc.

A gunicorn server is a tree: the master, its living workers, and the workers it has already replaced
(after max_requests) and reaped, whose times the kernel adds to the master's cutime/cstime. Their sum
only grows, whoever comes and goes. PostgreSQL backends are children of the postmaster, which also
reaps every other database's backends, so they are followed one by one instead: a sampler thread looks
them up in pg_stat_activity by application_name (the benchmark sets PGAPPNAME for each server) a few
times a second and a ledger adds up what each was seen to spend."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    """Clock ticks: user and system time of the process, and of its children it has waited for."""

    utime: int
    stime: int
    cutime: int
    cstime: int


def parse_stat(text: str) -> CpuTimes:
    # The process name (field 2) may hold spaces and parentheses: fields are counted after its last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return CpuTimes(*(int(value) for value in fields[11:15]))


def parse_schedstat(text: str) -> tuple[int, int]:
    """/proc/<pid>/schedstat: nanoseconds on a CPU, and nanoseconds runnable but waiting for one."""
    on_cpu, waiting, _slices = text.split()
    return int(on_cpu), int(waiting)


def read_schedstat(pid: int) -> int | None:
    """Nanoseconds the process (its main thread: gunicorn's sync workers and PostgreSQL backends have
    no other) has spent on a CPU, or None when it has gone."""
    try:
        return parse_schedstat(Path(f"/proc/{pid}/schedstat").read_text())[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def request_cpu_ms(before: Mapping[int, int], after: Mapping[int, int]) -> float | None:
    """CPU one request cost, from nanosecond counters of every process that may have served it read
    just before and just after it; None when the set of processes changed meanwhile."""
    if before.keys() != after.keys():
        return None
    return sum(after[pid] - before[pid] for pid in before) / 1e6


def tree_ticks(master: CpuTimes, workers: Iterable[CpuTimes]) -> int:
    return (
        master.utime + master.stime + master.cutime + master.cstime + sum(w.utime + w.stime for w in workers)
    )


def read_stat(pid: int) -> CpuTimes | None:
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None


def server_ticks(master_pid: int) -> int:
    """The server tree's ticks. A worker reaped between reading the master and reading the workers would
    be counted twice or not at all, so read again when the master's children's times moved meanwhile."""
    for _ in range(5):
        master = read_stat(master_pid)
        if master is None:
            raise RuntimeError(f"the server {master_pid} has gone")
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        workers = [times for times in map(read_stat, map(int, children)) if times is not None]
        again = read_stat(master_pid)
        if again is not None and (again.cutime, again.cstime) == (master.cutime, master.cstime):
            return tree_ticks(master, workers)
    return tree_ticks(master, workers)


class BackendLedger:
    """Ticks spent by a changing set of processes, from samples {pid: ticks so far}. The first sample is
    the baseline; a pid not seen before started since the previous sample and counts whole; a pid that
    has gone keeps what it was seen to spend (at most one sampling interval of its work is lost)."""

    def __init__(self) -> None:
        self.total = 0
        self._seen: dict[int, int] | None = None

    def record(self, sample: Mapping[int, int]) -> None:
        if self._seen is None:
            self._seen = dict(sample)
            return
        for pid, ticks in sample.items():
            previous = self._seen.get(pid, 0)
            # Fewer ticks than last time: the pid now belongs to another (new) process.
            self.total += ticks - previous if ticks >= previous else ticks
            self._seen[pid] = ticks


class BackendSampler(threading.Thread):
    """Follows the backends of each named application (PGAPPNAME) in one database."""

    def __init__(self, admin_url: str, database: str, applications: Iterable[str], interval: float = 0.1):
        super().__init__(daemon=True)
        self.admin_url, self.database, self.interval = admin_url, database, interval
        self.ledgers = {name: BackendLedger() for name in applications}
        self.current: dict[str, list[int]] = {name: [] for name in applications}  # pids last seen
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._connection = psycopg.connect(admin_url, autocommit=True, application_name="bench-sampler")
        self.sample()

    def sample(self) -> None:
        rows = self._connection.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s AND application_name = ANY(%s)",
            (self.database, list(self.ledgers)),
        ).fetchall()
        samples: dict[str, dict[int, int]] = {name: {} for name in self.ledgers}
        for pid, application in rows:
            times = read_stat(pid)
            if times is not None:
                samples[application][pid] = times.utime + times.stime
        with self._lock:
            for name, sample in samples.items():
                self.ledgers[name].record(sample)
                self.current[name] = sorted(sample)

    def seconds(self, application: str) -> float:
        """CPU seconds the application's backends have spent since the sampler started (samples first)."""
        self.sample()
        with self._lock:
            return self.ledgers[application].total / TICKS_PER_SECOND

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self._connection.close()


@dataclass(frozen=True)
class MachineTicks:
    """The whole machine's CPU since boot, from /proc/stat: busy (user, nice, system, irq, softirq),
    stolen by the hypervisor, and everything."""

    busy: int
    steal: int
    total: int


def machine_ticks() -> MachineTicks:
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    busy = user + nice + system + irq + softirq
    return MachineTicks(busy=busy, steal=steal, total=busy + idle + iowait + steal)
