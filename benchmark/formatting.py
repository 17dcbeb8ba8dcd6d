"""How numbers are written in the leaderboard: one place, so every table writes them alike."""

from __future__ import annotations

import math
from typing import Iterable

from benchmark.statistics import Summary, confidence_interval


def pct(summary: Summary) -> str:
    """``71.97 ± 1.10``: mean ± sample std in percent; ``n/a`` for the std of one value."""
    std = "n/a" if summary.n < 2 else f"{100 * summary.std:.2f}"
    return f"{100 * summary.mean:.2f} ± {std}"


def interval_text(summary: Summary) -> str:
    interval = confidence_interval(summary)
    return "n/a" if interval is None else f"[{100 * interval.low:.2f}, {100 * interval.high:.2f}]"


def p_text(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def seconds_text(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def rank_text(value: float) -> str:
    return f"{value:g}"


def bold(text: str, on: bool) -> str:
    return f"**{text}**" if on else text


def seed_list(seeds: Iterable[int]) -> str:
    """0, 1, 2, 5, 6 -> '0–2, 5–6'."""
    items = sorted(seeds)
    parts, start = [], None
    for i, seed in enumerate(items):
        if start is None:
            start = seed
        if i + 1 == len(items) or items[i + 1] != seed + 1:
            parts.append(str(start) if start == seed else f"{start}–{seed}")
            start = None
    return ", ".join(parts)
