"""Summaries, intervals, ranks with ties and the Pareto front, on values small enough to check by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from benchmark.pareto import pareto_front
from benchmark.ranking import average_ranks
from benchmark.statistics import confidence_interval, summarize


def test_summary_uses_the_sample_standard_deviation() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0])
    assert summary.mean == 2.5
    assert summary.std == pytest.approx(math.sqrt(5 / 3))  # sum of squares 5, divided by n - 1 = 3
    assert summary.n == 4


def test_t_interval_by_hand() -> None:
    # t(0.975, 3) = 3.182446305 (any t table); half-width = 3.182446305 * sqrt(5/3) / 2
    interval = confidence_interval(summarize([1.0, 2.0, 3.0, 4.0]))
    assert interval is not None
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert (interval.low, interval.high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-9)


def test_no_interval_from_one_seed() -> None:
    assert confidence_interval(summarize([0.7])) is None


def test_average_ranks_share_tied_positions() -> None:
    assert average_ranks([0.9, 0.8, 0.8, 0.7]) == [1.0, 2.5, 2.5, 4.0]
    assert average_ranks([0.5, 0.5, 0.5]) == [2.0, 2.0, 2.0]
    assert average_ranks([0.1, 0.3, 0.2], higher_is_better=False) == [1.0, 3.0, 2.0]


def test_average_ranks_agree_with_scipy_rankdata() -> None:
    scores = [0.71, 0.69, 0.71, 0.60, 0.69, 0.69, 0.75]
    assert average_ranks(scores) == list(stats.rankdata([-s for s in scores], method="average"))


def test_pareto_front() -> None:
    #            A fast/weak  B dominated by C  C  D slow/best  E equal to C
    scores = [0.60, 0.68, 0.70, 0.75, 0.70]
    costs = [0.001, 0.05, 0.02, 0.10, 0.02]
    assert pareto_front(scores, costs) == [True, False, True, True, True]
