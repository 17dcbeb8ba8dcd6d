"""Summary statistics over seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof = 1); NaN for a single value
    n: int


def summarize(values: Sequence[float]) -> Summary:
    n = len(values)
    if n == 0:
        raise ValueError("summarize() of no values")
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
    return Summary(mean=mean, std=std, n=n)
