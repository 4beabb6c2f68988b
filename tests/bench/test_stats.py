"""Medians, spreads and verdicts of the benchmark: a budget is met or missed only when the whole
interquartile range of its rounds lies on one side of the line; otherwise it is too noisy to say."""

from __future__ import annotations

import pytest

from bench.stats import MET, MISSED, NOISY, Spread, quantile, summarise, verdict


def test_quantiles_interpolate_between_ranks():
    values = [1.0, 2.0, 3.0, 4.0]
    assert quantile(values, 0.0) == 1.0
    assert quantile(values, 1.0) == 4.0
    assert quantile(values, 0.5) == 2.5
    assert quantile(values, 0.25) == pytest.approx(1.75)


def test_summary_of_rounds_in_any_order():
    spread = summarise([0.55, 0.40, 0.52, 0.61, 0.50])
    assert spread == Spread(median=0.52, q1=0.50, q3=0.55, low=0.40, high=0.61, count=5)


def test_one_value_has_no_spread():
    assert summarise([3.0]) == Spread(median=3.0, q1=3.0, q3=3.0, low=3.0, high=3.0, count=1)


def test_no_values_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        summarise([])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.51, 0.52, 0.53, 0.55, 0.60], MET),  # every quartile above 50 %
        ([0.40, 0.44, 0.45, 0.46, 0.49], MISSED),  # every quartile below
        ([0.46, 0.49, 0.51, 0.53, 0.55], NOISY),  # the interquartile range straddles the line
        ([0.30, 0.52, 0.53, 0.54, 0.70], MET),  # one disturbed round does not decide
        ([0.50, 0.50, 0.50, 0.50, 0.50], MET),  # on the line is within the budget
    ],
)
def test_verdict_for_an_at_least_budget(values, expected):
    assert verdict(summarise(values), limit=0.5, at_least=True) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([40.0, 42.0, 45.0, 44.0, 41.0], MET),
        ([120.0, 130.0, 125.0, 119.0, 140.0], MISSED),
        ([90.0, 95.0, 105.0, 110.0, 99.0], NOISY),
        ([100.0], MET),
        ([100.5], MISSED),
    ],
)
def test_verdict_for_an_at_most_budget(values, expected):
    assert verdict(summarise(values), limit=100.0, at_least=False) == expected


def test_a_verdict_must_survive_a_repeat_run():
    """Medians of repeated runs on the shared machine differ by a few per cent: within that margin of
    the line, a verdict would not repeat, so it is too noisy to say even when the rounds agree."""
    steady_but_close = summarise([0.51, 0.515, 0.52, 0.525, 0.53])
    assert verdict(steady_but_close, limit=0.5, at_least=True) == MET
    assert verdict(steady_but_close, limit=0.5, at_least=True, repeat_margin=0.09) == NOISY
    clear = summarise([0.58, 0.59, 0.60, 0.61, 0.62])
    assert verdict(clear, limit=0.5, at_least=True, repeat_margin=0.09) == MET
    assert verdict(summarise([0.40, 0.41, 0.42]), limit=0.5, at_least=True, repeat_margin=0.09) == MISSED
    assert verdict(summarise([40.0, 42.0, 44.0]), limit=100.0, at_least=False, repeat_margin=0.09) == MET
    assert verdict(summarise([95.0, 96.0, 97.0]), limit=100.0, at_least=False, repeat_margin=0.09) == NOISY
