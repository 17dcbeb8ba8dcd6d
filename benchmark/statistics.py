"""Summary statistics over seeds: mean, sample standard deviation and a t-based interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from scipy import stats


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof = 1); NaN for a single value
    n: int


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def summarize(values: Sequence[float]) -> Summary:
    n = len(values)
    if n == 0:
        raise ValueError("summarize() of no values")
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
    return Summary(mean=mean, std=std, n=n)


def confidence_interval(summary: Summary, level: float = 0.95) -> Interval | None:
    """Student-t interval for the mean over seeds: mean ± t(1 - (1-level)/2, n-1) · std / sqrt(n).

    ``None`` for fewer than two values (no spread to estimate). It treats the seeds as a
    sample of training randomness on one fixed split; it says nothing about other splits.
    """
    if summary.n < 2:
        return None
    half = float(stats.t.ppf(0.5 + level / 2, summary.n - 1)) * summary.std / math.sqrt(summary.n)
    return Interval(summary.mean - half, summary.mean + half)
