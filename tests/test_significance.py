"""Paired tests and Holm's correction against values computed independently in the test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from benchmark.significance import compare_paired, holm, paired_t_test_p, smallest_wilcoxon_p, wilcoxon_signed_rank_p


def brute_force_wilcoxon(differences: list[float]) -> float:
    """Two-sided exact p by listing all 2^n sign patterns (zeros dropped, ties at average ranks)."""
    d = [x for x in differences if x != 0]
    if not d:
        return 1.0
    ranks = stats.rankdata([abs(x) for x in d])
    observed = sum(r for r, x in zip(ranks, d) if x > 0)
    totals = [sum(r for r, s in zip(ranks, signs) if s) for signs in itertools.product([0, 1], repeat=len(d))]
    mean = sum(ranks) / 2
    extreme = sum(1 for t in totals if abs(t - mean) >= abs(observed - mean) - 1e-9)
    return extreme / len(totals)


TIE_FREE = [
    [0.012, -0.003, 0.021, 0.008, 0.015, -0.006, 0.019, 0.011, 0.004, 0.017],
    [-0.05, -0.01, -0.03, -0.02, -0.04, -0.07, 0.006, -0.08],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    [0.3, -0.1, 0.2],
]


@pytest.mark.parametrize("differences", TIE_FREE)
def test_wilcoxon_equals_scipy_exact_without_ties(differences: list[float]) -> None:
    expected = stats.wilcoxon(differences, method="exact").pvalue
    assert wilcoxon_signed_rank_p(differences) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("differences", [
    [0.01, 0.01, -0.01, 0.02, 0.02, 0.03, 0.0, -0.02, 0.04],  # tied |d| and a zero
    [0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.5],
    [0.0, 0.0, 0.2, -0.1, 0.1, 0.3],
])
def test_wilcoxon_with_ties_and_zeros_equals_brute_force_enumeration(differences: list[float]) -> None:
    assert wilcoxon_signed_rank_p(differences) == pytest.approx(brute_force_wilcoxon(differences), rel=1e-12)


def test_wilcoxon_smallest_p_is_two_over_two_to_the_n() -> None:
    assert wilcoxon_signed_rank_p([-0.01 * (i + 1) for i in range(10)]) == pytest.approx(2 / 1024)
    # Five seeds, all worse: still p = 0.0625, never below 0.05.
    assert wilcoxon_signed_rank_p([-0.1, -0.2, -0.3, -0.4, -0.5]) == pytest.approx(0.0625)
    assert smallest_wilcoxon_p(5) == pytest.approx(0.0625)
    assert smallest_wilcoxon_p(6) == pytest.approx(0.03125)


def test_wilcoxon_of_identical_runs_is_one() -> None:
    assert wilcoxon_signed_rank_p([0.0, 0.0, 0.0]) == 1.0


def test_paired_t_equals_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(0.7, 0.02, 10)
    b = a - 0.01 + rng.normal(0, 0.01, 10)
    assert paired_t_test_p(list(b - a)) == pytest.approx(stats.ttest_rel(b, a).pvalue, rel=1e-10)


def test_paired_t_degenerate_spreads() -> None:
    assert paired_t_test_p([0.0, 0.0, 0.0]) == 1.0
    assert paired_t_test_p([0.02, 0.02, 0.02]) == 0.0
    assert math.isnan(paired_t_test_p([0.02]))


def test_holm_by_hand() -> None:
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> monotone 0.06)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.6, 0.5]) == pytest.approx([1.0, 1.0])  # capped at one
    assert holm([]) == []


def test_holm_ignores_nan_and_agrees_with_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = [0.001, float("nan"), 0.2, 0.013, 0.04, 0.5]
    finite = [x for x in p if not math.isnan(x)]
    expected = iter(multipletests(finite, method="holm")[1])
    adjusted = holm(p)
    assert math.isnan(adjusted[1])
    assert [a for a in adjusted if not math.isnan(a)] == pytest.approx(list(expected))


def test_compare_paired_uses_the_shared_seeds_only() -> None:
    reference = {0: 0.70, 1: 0.71, 2: 0.72, 3: 0.73}
    candidate = {1: 0.69, 2: 0.70, 3: 0.72, 7: 0.10}  # seed 0 missing, seed 7 not in the reference
    comparison = compare_paired(candidate, reference)
    assert comparison.seeds == (1, 2, 3)
    assert comparison.mean_difference == pytest.approx((-0.02 - 0.02 - 0.01) / 3)
    assert comparison.wilcoxon_p == pytest.approx(brute_force_wilcoxon([-0.02, -0.02, -0.01]))
    assert comparison.t_test_p == pytest.approx(stats.ttest_rel([0.69, 0.70, 0.72], [0.71, 0.72, 0.73]).pvalue)


def test_compare_paired_without_shared_seeds_has_no_p() -> None:
    comparison = compare_paired({0: 0.5}, {1: 0.6})
    assert comparison.n_pairs == 0 and math.isnan(comparison.wilcoxon_p) and math.isnan(comparison.mean_difference)


def test_differences_equal_up_to_float_noise_are_ties() -> None:
    # 0.69 - 0.71 and 0.68 - 0.70 differ in the last bits; on paper they are the same tie.
    noisy = [0.69 - 0.71, 0.68 - 0.70, 0.05, 0.03, -0.01, 0.02]
    assert noisy[0] != noisy[1]
    assert wilcoxon_signed_rank_p(noisy) == pytest.approx(brute_force_wilcoxon([-0.02, -0.02, 0.05, 0.03, -0.01, 0.02]))
