"""Paired significance tests over seeds, and Holm's step-down correction.

Two runs are paired when they share a seed (and so the split and every mask): the tests see
the per-seed differences ``d_s = score(candidate, s) - score(reference, s)``.

* Wilcoxon signed-rank, two-sided, **exact** up to 200 pairs (normal approximation beyond): zero differences are dropped
  (Wilcoxon's convention), the others are ranked by ``|d|`` with average ranks for ties, and
  the null distribution of ``T+`` (sum of the ranks of positive differences) is enumerated
  over all ``2^n`` sign patterns by a convolution over rank sums. With ties this is the exact
  conditional (permutation) distribution given the observed ranks; without ties it equals the
  classical exact table (scipy's ``method="exact"``).
* Paired t-test, two-sided, as a check: ``t = mean(d) / (sd(d) / sqrt(n))`` with n - 1 degrees
  of freedom (scipy's ``ttest_rel``).

The smallest two-sided exact Wilcoxon p-value is ``2 / 2^n``: with n <= 5 pairs no difference
can reach p < 0.05 (:func:`smallest_wilcoxon_p`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import stats


EXACT_WILCOXON_MAX_PAIRS = 200


def wilcoxon_signed_rank_p(differences: Sequence[float]) -> float:
    """Two-sided exact p-value of the Wilcoxon signed-rank test; 1.0 when every difference is 0."""
    # Rounded to 1e-12 first: two score differences that are equal on paper (the same change
    # in correctly classified nodes) can differ in the last float bits and must tie.
    rounded = np.round(np.asarray(differences, dtype=float), 12)
    d = rounded[rounded != 0.0]
    if d.size == 0:
        return 1.0
    if d.size > EXACT_WILCOXON_MAX_PAIRS:  # the enumeration grows as n^3; never reached with 10 seeds
        return float(stats.wilcoxon(d, zero_method="wilcox", method="approx").pvalue)
    # Average ranks are multiples of 1/2: doubling keeps every rank sum an exact integer.
    doubled = np.rint(2 * stats.rankdata(np.abs(d), method="average")).astype(np.int64)
    observed = int(doubled[d > 0].sum())
    total = int(doubled.sum())
    # probability[s] = P(T+ = s / 2) when each sign is + or - with probability 1/2.
    probability = np.zeros(total + 1)
    probability[0] = 1.0
    for rank in doubled:
        shifted = np.zeros_like(probability)
        shifted[rank:] = probability[: probability.size - rank]
        probability = 0.5 * (probability + shifted)
    lower = probability[: observed + 1].sum()
    upper = probability[observed:].sum()
    return float(min(1.0, 2.0 * min(lower, upper)))


def paired_t_test_p(differences: Sequence[float]) -> float:
    """Two-sided p-value of the paired t-test; NaN for fewer than two pairs.

    Degenerate spreads: all differences 0 -> 1.0; all equal and non-zero -> 0.0.
    """
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        return float("nan")
    sd = float(d.std(ddof=1))
    mean = float(d.mean())
    if sd == 0.0 or not math.isfinite(sd):
        return 1.0 if mean == 0.0 else 0.0
    t = mean / (sd / math.sqrt(d.size))
    return float(2.0 * stats.t.sf(abs(t), d.size - 1))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (NaN stays NaN, not counted).

    Sorted ascending, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))`` with m the
    number of finite p-values. Rejecting where the adjusted value is below alpha controls the
    family-wise error rate at alpha.
    """
    finite = [(p, i) for i, p in enumerate(p_values) if not math.isnan(p)]
    m = len(finite)
    adjusted = [float("nan")] * len(p_values)
    running = 0.0
    for j, (p, i) in enumerate(sorted(finite)):
        running = max(running, min(1.0, (m - j) * p))
        adjusted[i] = running
    return adjusted


def smallest_wilcoxon_p(n_pairs: int) -> float:
    """The smallest two-sided exact Wilcoxon p-value with n non-zero differences."""
    return min(1.0, 2.0 / 2**n_pairs) if n_pairs > 0 else 1.0


@dataclass(frozen=True)
class PairedComparison:
    """A candidate against the reference, over the seeds both have."""

    seeds: tuple[int, ...]  # the shared seeds the test used
    mean_difference: float  # mean over shared seeds of candidate - reference; NaN without pairs
    wilcoxon_p: float
    t_test_p: float

    @property
    def n_pairs(self) -> int:
        return len(self.seeds)


def compare_paired(candidate: Mapping[int, float], reference: Mapping[int, float]) -> PairedComparison:
    """Pair by seed on the intersection of the two seed sets (a seed one side lacks is left out)."""
    seeds = tuple(sorted(set(candidate) & set(reference)))
    if not seeds:
        return PairedComparison(seeds=(), mean_difference=float("nan"), wilcoxon_p=float("nan"), t_test_p=float("nan"))
    differences = [candidate[s] - reference[s] for s in seeds]
    return PairedComparison(
        seeds=seeds,
        mean_difference=math.fsum(differences) / len(differences),
        wilcoxon_p=wilcoxon_signed_rank_p(differences),
        t_test_p=paired_t_test_p(differences),
    )
