"""The paired tests the README quotes about robustness curves, on curves small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from benchmark.robustness import CurveKey, CurveRun
from benchmark.scripts.curve_statistics import against_mechanism, report, rises, with_holm

MCAR = CurveKey("imdb_mm", "magnn", "standard", "cpu", "mcar", "image", "train_test")
TWO_HOP = CurveKey("imdb_mm", "magnn", "standard", "cpu", "two_hop", "image", "train_test")

# Row "a" at r = 0.5 minus r = 0, per seed 0-5: |d| ranks 2, 3, 4, 1, 5, 6, one of them negative.
A_RISE = [0.01, 0.02, 0.03, -0.005, 0.04, 0.05]
B_RISE = [0.01, 0.02, 0.03, 0.005, 0.04, 0.05]  # the same sizes, all positive


def line(key: CurveKey, method: str, rise: list[float], seeds: range = range(6), shift: float = 0.0) -> list[CurveRun]:
    runs = []
    for seed in seeds:
        base = 0.6 + 0.01 * seed
        runs.append(CurveRun(key, method, 0.0, seed, base, base, 0.2))
        runs.append(CurveRun(key, method, 0.5, seed, base + rise[seed] + shift, base, 0.6))
    return runs


def test_a_rise_is_each_seeds_score_at_the_rate_minus_its_score_at_zero_with_the_exact_wilcoxon_p() -> None:
    (d,) = rises(line(MCAR, "a", A_RISE))
    assert d.rate == 0.5 and d.baseline == "r = 0"
    assert d.comparison.mean_difference == pytest.approx(sum(A_RISE) / 6)
    assert (d.higher, d.lower) == (5, 1)
    # T- = 1 (the rank of -0.005); two-sided exact p = 2 * P(T- <= 1) = 2 * 2 / 2^6.
    assert d.comparison.wilcoxon_p == pytest.approx(4 / 64)


def test_holm_runs_over_the_rows_of_a_curve_at_one_rate_or_over_the_rows_named() -> None:
    runs = line(MCAR, "a", A_RISE) + line(MCAR, "b", B_RISE)
    a, b = with_holm(rises(runs))
    assert b.comparison.wilcoxon_p == pytest.approx(2 / 64)
    # Sorted p: b 2/64 -> 2 * 2/64; a 4/64 -> max(4/64, 1 * 4/64).
    assert b.holm_p == pytest.approx(4 / 64) and a.holm_p == pytest.approx(4 / 64)
    a_alone, b_outside = with_holm(rises(runs), frozenset({"a"}))
    assert a_alone.holm_p == pytest.approx(4 / 64)
    assert math.isnan(b_outside.holm_p)


def test_a_mechanism_is_compared_with_the_reference_curve_row_by_row_at_shared_rates_over_shared_seeds() -> None:
    runs = (line(MCAR, "a", A_RISE, seeds=range(5)) + line(TWO_HOP, "a", A_RISE, shift=0.02)
            + line(TWO_HOP, "only_here", B_RISE))
    (d,) = against_mechanism(runs, "mcar")  # r = 0 is the same plain run on both curves: not compared
    assert (d.curve, d.method, d.rate, d.baseline) == (TWO_HOP, "a", 0.5, "mcar")
    assert d.comparison.seeds == (0, 1, 2, 3, 4)  # seed 5 has no mcar run
    assert d.comparison.mean_difference == pytest.approx(0.02)
    assert (d.higher, d.lower) == (5, 0)


def test_the_report_gives_points_and_leaves_holm_blank_outside_the_family() -> None:
    text = report(with_holm(rises(line(MCAR, "a", A_RISE) + line(MCAR, "b", B_RISE)), frozenset({"b"})))
    lines = text.splitlines()
    assert lines[0] == "imdb_mm standard: image missing, mcar, train_test, minus r = 0"
    rows = {fields[0]: fields[1:] for fields in (line.split() for line in lines[2:])}
    # rate, n, mean (points), higher, lower, p[, Holm]
    assert rows["a"] == ["0.5", "6", f"{100 * sum(A_RISE) / 6:+.2f}", "5", "1", "0.0625"]
    assert rows["b"] == ["0.5", "6", f"{100 * sum(B_RISE) / 6:+.2f}", "6", "0", "0.0312", "0.0312"]
