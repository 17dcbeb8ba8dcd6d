"""The accuracy-cost Pareto front: rows no other row beats on both score and cost."""

from __future__ import annotations

from typing import Sequence


def pareto_front(scores: Sequence[float], costs: Sequence[float]) -> list[bool]:
    """True where no other point has ``score >=`` and ``cost <=`` with one of them strict.

    Higher score is better, lower cost is better. Two identical points are both on the front.
    """
    if len(scores) != len(costs):
        raise ValueError(f"pareto_front: {len(scores)} scores but {len(costs)} costs")
    points = list(zip(scores, costs))
    return [
        not any(s >= score and c <= cost and (s > score or c < cost) for s, c in points)
        for score, cost in points
    ]
