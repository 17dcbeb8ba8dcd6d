"""Ranks with ties: the convention of Friedman's test and of critical-difference diagrams."""

from __future__ import annotations

from typing import Sequence


def average_ranks(scores: Sequence[float], higher_is_better: bool = True) -> list[float]:
    """Rank 1 for the best score; tied scores share the mean of the ranks they span.

    E.g. scores (0.9, 0.8, 0.8, 0.7) -> ranks (1, 2.5, 2.5, 4). Ties are exact float
    equality: the scores are means of the same stored values, so equal runs give equal means.
    """
    order = sorted(range(len(scores)), key=lambda i: -scores[i] if higher_is_better else scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1  # mean of the 1-based positions start+1 .. end+1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks
