"""CPU time from /proc: a server's workers come and go (gunicorn replaces them after max_requests), and
so do the database backends serving them; what they spent must be counted once, whatever happens."""

from __future__ import annotations

from bench.procstat import BackendLedger, CpuTimes, parse_schedstat, parse_stat, request_cpu_ms, tree_ticks

# A real line's shape: a process name with a space and a parenthesis in it, then fields 3 onwards.
STAT = (
    "4242 (gunicorn: work) er) S 4200 4200 4200 0 -1 4194560 12345 0 0 0 "
    "731 129 56 17 20 0 1 0 987654 123456789 24000 18446744073709551615"
)


def test_parse_stat_reads_user_system_and_reaped_children_times():
    assert parse_stat(STAT) == CpuTimes(utime=731, stime=129, cutime=56, cstime=17)


def test_a_server_tree_counts_the_master_its_reaped_workers_and_the_living_ones():
    master = CpuTimes(utime=10, stime=5, cutime=300, cstime=40)
    workers = [
        CpuTimes(utime=100, stime=20, cutime=0, cstime=0),
        CpuTimes(utime=50, stime=5, cutime=0, cstime=0),
    ]
    assert tree_ticks(master, workers) == 10 + 5 + 300 + 40 + 120 + 55


def test_a_worker_replaced_during_a_run_is_counted_once():
    before = tree_ticks(CpuTimes(1, 1, 0, 0), [CpuTimes(100, 10, 0, 0), CpuTimes(80, 8, 0, 0)])
    # The first worker spent 30 more ticks, exited and was reaped (its 140 go to the master's cutime);
    # its replacement has spent 25.
    after = tree_ticks(CpuTimes(1, 1, 130, 10), [CpuTimes(90, 9, 0, 0), CpuTimes(20, 5, 0, 0)])
    assert after - before == 30 + 11 + 25


def test_backend_ledger_counts_growth_since_the_first_sample():
    ledger = BackendLedger()
    ledger.record({10: 500, 11: 700})  # the baseline: what they spent before we looked is not ours
    assert ledger.total == 0
    ledger.record({10: 520, 11: 760})
    assert ledger.total == 80


def test_backend_ledger_counts_a_new_backend_whole_and_keeps_an_exited_ones_share():
    ledger = BackendLedger()
    ledger.record({10: 500})
    ledger.record({10: 510, 12: 7})  # 12 started since the last sample
    ledger.record({12: 9})  # 10 has exited: its 10 ticks stay counted
    assert ledger.total == 10 + 7 + 2


def test_backend_ledger_treats_a_reused_pid_as_a_new_backend():
    ledger = BackendLedger()
    ledger.record({10: 500})
    ledger.record({10: 4})  # fewer ticks than before: another process now has that pid
    assert ledger.total == 4


def test_schedstat_gives_nanoseconds_on_the_cpu_and_waiting_for_one():
    assert parse_schedstat("175723896 4262118796 433\n") == (175723896, 4262118796)


def test_cpu_of_one_request_is_the_growth_over_every_process_that_serves_it():
    before = {10: 1_000_000, 11: 5_000_000, 20: 7_000_000}  # two workers and a database backend
    after = {10: 3_500_000, 11: 5_000_000, 20: 7_500_000}
    assert request_cpu_ms(before, after) == 3.0


def test_a_request_during_which_a_process_came_or_went_is_not_measured():
    assert request_cpu_ms({10: 1_000_000}, {10: 2_000_000, 12: 100}) is None
    assert request_cpu_ms({10: 1_000_000, 12: 100}, {10: 2_000_000}) is None
