"""The benchmark's report: budgets judged per size from the paired rounds, each figure at each size side
by side, and two runs compared verdict by verdict."""

from __future__ import annotations

from bench.pairing import CEILING
from bench.report import disagreements, render, verdicts
from bench.stats import MET, MISSED, NOISY

QUEUE = "queue: unassigned"


def runs_for(endpoint: str, ratios: list[float], errors: int = 0) -> list[dict[str, object]]:
    """Rounds in which the endpoint serves `ratio` of the ceiling's requests and, consistently, costs
    1 / ratio times the ceiling's CPU per request (1.5 ms: 1.0 in the workers, 0.5 in the database)."""
    ceiling = {"name": CEILING, "seconds": 5.0, "requests": 1000, "p50_ms": 10.0, "p99_ms": 20.0, "errors": 0}
    ceiling |= {"worker_cpu_s": 1.0, "db_cpu_s": 0.5}
    runs: list[dict[str, object]] = [{**ceiling, "round": 0}]
    for number, ratio in enumerate(ratios, start=1):
        runs.append(
            {
                "name": endpoint,
                "round": number,
                "seconds": 5.0,
                "requests": round(1000 * ratio),
                "p50_ms": 30.0,
                "p99_ms": 60.0,
                "errors": errors,
                "worker_cpu_s": 1.2,
                "db_cpu_s": 0.3,
            }
        )
        runs.append({**ceiling, "round": number})
    return runs


def size(n: int, ratios: list[float], **more: object) -> dict[str, object]:
    return {
        "n": n,
        "runs": runs_for(QUEUE, ratios, errors=int(more.get("errors", 0))),  # type: ignore[call-overload]
        "queries": {QUEUE: more.get("queries", 2)},
        "seed": {"tickets": n, "seed_seconds": more.get("seed_seconds", 200.0)},
        "worker_rss_mb": more.get("rss", 96.0),
        "database_mb": n / 200,
        "machine": [],
    }


def result(*sizes: dict[str, object]) -> dict[str, object]:
    return {
        "database": "postgresql",
        "started": "2026-11-29T09:30:00",
        "settings": {"rounds": 5, "seconds": 5, "connections": 16, "workers": 4, "cores": 2},
        "sizes": list(sizes),
    }


def test_each_budget_is_judged_at_each_size():
    judged = verdicts(
        result(size(100_000, [0.60, 0.62, 0.61, 0.63, 0.59]), size(1_000_000, [0.46, 0.49, 0.51, 0.53, 0.55]))
    )
    assert judged[QUEUE] == {100_000: MET, 1_000_000: NOISY}


def test_a_median_within_a_repeat_runs_reach_of_the_line_is_too_noisy():
    judged = verdicts(result(size(1_000_000, [0.52, 0.52, 0.53, 0.53, 0.54])))
    assert judged[QUEUE] == {1_000_000: NOISY}


def test_a_clear_miss_is_missed():
    judged = verdicts(result(size(1_000_000, [0.40, 0.41, 0.42, 0.43, 0.44])))
    assert judged[QUEUE] == {1_000_000: MISSED}


def test_run_wide_budgets():
    judged = verdicts(
        result(
            size(100_000, [0.6] * 5, errors=1, rss=120.0, queries=5, seed_seconds=30.0),
            size(1_000_000, [0.6] * 5, rss=151.0, seed_seconds=700.0),
        )
    )
    assert judged["errors"] == {100_000: MISSED, 1_000_000: MET}
    assert judged["worker RSS"] == {100_000: MET, 1_000_000: MISSED}
    assert judged[f"SQL per request: {QUEUE}"] == {100_000: MISSED, 1_000_000: MET}
    # The seeding budget is stated for a million tickets only.
    assert judged["seed time"] == {1_000_000: MISSED}


def test_the_report_shows_every_size_side_by_side():
    text = render(
        result(size(100_000, [0.60, 0.62, 0.61, 0.63, 0.59]), size(1_000_000, [0.46, 0.49, 0.51, 0.53, 0.55]))
    )
    assert "N = 100,000" in text
    assert "N = 1,000,000" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {QUEUE} >="))
    assert row.index(MET) < row.index(NOISY)  # the smaller size's column first
    assert "61 %" in row  # the median ratio at 100,000
    # The scale table: the endpoint's CPU per request (1.5 ms / ratio) at each size.
    scale = [line for line in text.splitlines() if line.startswith(f"| {QUEUE} |")]
    assert any("2.46" in line and "2.94" in line for line in scale)


def test_two_runs_agree_when_every_verdict_matches():
    first = result(size(1_000_000, [0.46, 0.49, 0.51, 0.53, 0.55]))
    second = result(size(1_000_000, [0.45, 0.49, 0.52, 0.52, 0.56]))
    assert disagreements(first, second) == []


def test_two_runs_disagree_when_a_verdict_differs():
    first = result(size(1_000_000, [0.46, 0.49, 0.51, 0.53, 0.55]))
    second = result(size(1_000_000, [0.58, 0.59, 0.60, 0.61, 0.62]))
    assert disagreements(first, second) == [f"{QUEUE} at N = 1,000,000: {NOISY} vs {MET}"]


def test_latency_budgets_are_judged_on_the_cpu_each_request_cost():
    """One user's latency on a machine with a free core is the CPU its request costs (workers and
    database); the wall-clock p99 also holds everyone else's work on the machine."""
    sqlite = result(size(100_000, [0.6] * 5))
    sqlite["database"] = "sqlite"
    runs = sqlite["sizes"][0]["runs"]  # type: ignore[index]
    for number, run in enumerate(r for r in runs if r["name"] == QUEUE):
        run["p99_ms"] = 400.0  # a machine busy with other work
        run["cpu_p99_ms"] = [9.0, 11.0, 60.0, 12.0, 10.0][number]
    assert verdicts(sqlite)[QUEUE] == {100_000: MET}
    for run in (r for r in runs if r["name"] == QUEUE):
        run["cpu_p99_ms"] = 60.0
    assert verdicts(sqlite)[QUEUE] == {100_000: MISSED}


def test_two_runs_side_by_side_show_each_verdict_with_its_median():
    from bench.report import side_by_side

    first = result(size(1_000_000, [0.46, 0.49, 0.51, 0.53, 0.55]))
    second = result(size(1_000_000, [0.58, 0.59, 0.60, 0.61, 0.62]))
    row = next(line for line in side_by_side(first, second).splitlines() if line.startswith(f"| {QUEUE} >="))
    assert f"{NOISY}: 51 %" in row
    assert f"{MET}: 60 %" in row
    assert row.endswith("| differ |")


def test_the_rows_left_undecided_are_named_for_more_rounds():
    """After the planned rounds, a budget whose verdict is "too noisy to say" gets rounds of its own."""
    from bench.report import undecided

    assert undecided("postgresql", 2, runs_for(QUEUE, [0.46, 0.49, 0.51, 0.53, 0.55])) == [QUEUE]
    assert undecided("postgresql", 2, runs_for(QUEUE, [0.60, 0.62, 0.61, 0.63, 0.59])) == []
    assert undecided("postgresql", 2, runs_for(QUEUE, [0.40, 0.41, 0.42, 0.43, 0.44])) == []


def test_the_reports_and_the_export_have_budgets_of_their_own():
    """The reports page at a fifth of the ceiling under load and 300 ms for one user; a CSV export of every
    ticket at 20,000 rows/s or more with its worker inside the RSS budget."""
    reports = "reports: four weeks"
    one_user = "reports, one user at a time"
    fast, slow = size(1_000_000, [0.6] * 5), size(1_000_000, [0.6] * 5)
    for target, ratio, cpu_p99 in ((fast, 0.3, 120.0), (slow, 0.1, 900.0)):
        runs = target["runs"]  # type: ignore[index]
        runs += [
            dict(run, name=reports, requests=round(1000 * ratio)) for run in runs_for(QUEUE, [0.6] * 5)[1::2]
        ]
        runs += [dict(run, name=one_user, cpu_p99_ms=cpu_p99) for run in runs_for(QUEUE, [0.6] * 5)[1::2]]
        target["queries"] = {reports: 9}  # type: ignore[index]
    fast["export"] = {"rows": 1_000_000, "seconds": 31.0, "worker_rss_mb_max": 110.0}
    slow["export"] = {"rows": 1_000_000, "seconds": 80.0, "worker_rss_mb_max": 400.0}
    for target, expected in ((fast, MET), (slow, MISSED)):
        judged = verdicts(result(target))
        assert judged[reports] == {1_000_000: expected}
        assert judged[one_user] == {1_000_000: expected}
        assert judged["CSV export"] == {1_000_000: expected}
        assert judged["export worker RSS"] == {1_000_000: expected}
    assert verdicts(result(fast))["SQL per request: reports: four weeks"] == {1_000_000: MET}
    text = render(result(fast))
    assert "CSV export of every ticket >= 20,000 rows/s" in text and "32,258 rows/s" in text
    # An export cut short (a worker killed at gunicorn's timeout) fails however fast it went.
    fast["export"] = {"rows": 600_000, "seconds": 30.0, "worker_rss_mb_max": 110.0}
    assert verdicts(result(fast))["CSV export"] == {1_000_000: MISSED}
    assert "cut after 600,000 rows" in render(result(fast))


def test_the_errors_say_which_endpoint_answered_what():
    measured = size(1_000_000, [0.6] * 3, errors=2)
    for run in measured["runs"]:  # type: ignore[attr-defined]
        if run["name"] == QUEUE:
            run["failures"] = {"409": 1, "socket": 1}
    row = next(line for line in render(result(measured)).splitlines() if line.startswith("| errors = 0"))
    assert "missed: 6" in row
    assert f"{QUEUE}: 409 x 3, socket x 3" in row
