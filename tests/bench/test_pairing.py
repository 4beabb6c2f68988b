"""Paired, interleaved measurement: every endpoint run sits between two runs of the ceiling, and its
figures are compared with theirs, not with a ceiling measured minutes earlier."""

from __future__ import annotations

import math

import pytest

from bench.pairing import CEILING, Pair, Run, pair_runs, per_request_ms, schedule


def run(name: str, requests: int, worker_cpu_s: float = 0.0, db_cpu_s: float = 0.0, **more) -> Run:
    return Run(
        name=name,
        round=more.get("round", 1),
        seconds=more.get("seconds", 10.0),
        requests=requests,
        p50_ms=more.get("p50_ms", 10.0),
        p99_ms=more.get("p99_ms", 20.0),
        errors=more.get("errors", 0),
        worker_cpu_s=worker_cpu_s,
        db_cpu_s=db_cpu_s,
    )


def test_the_ceiling_runs_before_every_endpoint_run_and_after_the_last():
    order = schedule(["a", "b", "c"], rounds=2)
    names = [name for _, name in order]
    assert names == [
        CEILING,
        "a",
        CEILING,
        "b",
        CEILING,
        "c",
        CEILING,
        "c",
        CEILING,
        "b",
        CEILING,
        "a",
        CEILING,
    ]
    assert [r for r, name in order if name != CEILING] == [1, 1, 1, 2, 2, 2]


def test_every_round_measures_every_endpoint_once():
    order = schedule(["a", "b"], rounds=5)
    for name in ("a", "b"):
        assert sorted(r for r, n in order if n == name) == [1, 2, 3, 4, 5]


def test_each_endpoint_run_is_paired_with_the_ceiling_runs_on_either_side():
    runs = [run(CEILING, 900), run("a", 500), run(CEILING, 1100), run("b", 300), run(CEILING, 700)]
    pairs = pair_runs(runs)
    assert [p.run.name for p in pairs] == ["a", "b"]
    assert [c.requests for c in pairs[0].ceilings] == [900, 1100]
    assert [c.requests for c in pairs[1].ceilings] == [1100, 700]


def test_a_run_with_a_ceiling_on_one_side_only_is_paired_with_that_one():
    pairs = pair_runs([run(CEILING, 900), run("a", 500), run("b", 400)])
    assert [len(p.ceilings) for p in pairs] == [1, 1]
    assert pairs[1].ceilings[0].requests == 900


def test_runs_without_any_ceiling_cannot_be_paired():
    with pytest.raises(ValueError):
        pair_runs([run("a", 500)])


def test_the_ratio_is_to_the_mean_of_the_neighbouring_ceiling_runs():
    pair = Pair(run("a", 5000), (run(CEILING, 9000), run(CEILING, 11000)))
    figures = pair.figures(cores=2)
    assert figures["rps"] == pytest.approx(500.0)
    assert figures["ratio"] == pytest.approx(0.5)


def test_cpu_per_request_is_cpu_seconds_over_requests_served():
    assert per_request_ms(3.0, 1000) == pytest.approx(3.0)
    assert per_request_ms(0.25, 500) == pytest.approx(0.5)
    assert math.isnan(per_request_ms(1.0, 0))


def test_cpu_figures_of_a_pair():
    # The endpoint: 1,000 requests, 3.0 s in the workers and 0.5 s in the database backends.
    # The ceiling: 1.2 ms + 0.3 ms per request before, 1.4 + 0.1 after (1.5 ms in all either way).
    pair = Pair(
        run("a", 1000, worker_cpu_s=3.0, db_cpu_s=0.5),
        (
            run(CEILING, 2000, worker_cpu_s=2.4, db_cpu_s=0.6),
            run(CEILING, 1000, worker_cpu_s=1.4, db_cpu_s=0.1),
        ),
    )
    figures = pair.figures(cores=2)
    assert figures["worker_ms"] == pytest.approx(3.0)
    assert figures["db_ms"] == pytest.approx(0.5)
    assert figures["cpu_ms"] == pytest.approx(3.5)
    assert figures["ceiling_worker_ms"] == pytest.approx(1.3)
    assert figures["ceiling_db_ms"] == pytest.approx(0.2)
    assert figures["ceiling_cpu_ms"] == pytest.approx(1.5)
    # What share of the ceiling's throughput the endpoint reaches when CPU is all that limits both.
    assert figures["cpu_ratio"] == pytest.approx(1.5 / 3.5)
    # Requests per second the two cores serve when the desk has them to itself.
    assert figures["capacity"] == pytest.approx(2000 / 3.5)


def test_latency_and_errors_are_the_endpoint_runs_own():
    pair = Pair(run("a", 1000, p50_ms=7.0, p99_ms=42.0, errors=3), (run(CEILING, 900, p99_ms=99.0),))
    figures = pair.figures(cores=2)
    assert (figures["p50_ms"], figures["p99_ms"], figures["errors"]) == (7.0, 42.0, 3)


def test_one_user_runs_carry_the_p99_of_the_cpu_each_request_cost():
    one_user = Run(
        name="a",
        round=1,
        seconds=5.0,
        requests=200,
        p50_ms=20.0,
        p99_ms=140.0,
        errors=0,
        worker_cpu_s=2.0,
        db_cpu_s=1.0,
        cpu_p99_ms=31.5,
    )
    assert Pair(one_user, (run(CEILING, 900),)).figures(cores=2)["cpu_p99_ms"] == 31.5
    assert math.isnan(Pair(run("b", 900), (run(CEILING, 900),)).figures(cores=2)["cpu_p99_ms"])


def test_extra_rounds_carry_on_the_numbering_and_keep_every_run_paired():
    from bench.pairing import schedule

    extra = schedule(["b"], rounds=2, first_round=10)
    assert extra == [(10, CEILING), (10, "b"), (10, CEILING), (11, "b"), (11, CEILING)]
