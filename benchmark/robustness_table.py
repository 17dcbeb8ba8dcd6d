"""The missing-modality robustness table of the leaderboard: its row type and its rendering.

The robustness sweep (its own module) summarises each curve and hands the leaderboard a list
of :class:`RobustnessRow`; this module only renders them. Per (dataset, modality, mechanism,
setting) one table, methods ranked by the area under the curve (ties share the mean rank).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tabulate import tabulate

from benchmark.formatting import pct, rank_text
from benchmark.ranking import average_ranks
from benchmark.statistics import Summary


@dataclass(frozen=True)
class RobustnessRow:
    dataset: str
    modality: str  # the modality that is dropped
    mechanism: str  # e.g. "mcar", "degree"
    setting: str  # "train_test" or "test_only"
    method: str
    config_source: str  # "defaults" or "tuned (N trials)"
    rates: tuple[float, ...]  # the missing rates of the curve
    area: Summary  # per seed: mean test Macro-F1 over the rates; summarised over seeds
    drop_at_half: Summary  # per seed: Macro-F1 at r = 0 minus Macro-F1 at r = 0.5


HEADERS = ["rank", "method", "config", "area (mean over r)", "drop at r = 0.5", "n", "rates"]


def render_robustness(rows: list[RobustnessRow]) -> list[str]:
    """Markdown lines; empty when there are no rows."""
    if not rows:
        return []
    groups: dict[tuple[str, str, str, str], list[RobustnessRow]] = defaultdict(list)
    for row in rows:
        groups[(row.dataset, row.modality, row.mechanism, row.setting)].append(row)
    lines: list[str] = []
    for (dataset, modality, mechanism, setting), group in sorted(groups.items()):
        group = sorted(group, key=lambda r: (-r.area.mean, r.method, r.config_source))
        ranks = average_ranks([r.area.mean for r in group])
        table = [
            [rank_text(rank), row.method, row.config_source, pct(row.area), pct(row.drop_at_half), str(row.area.n),
             ", ".join(f"{r:g}" for r in row.rates)]
            for rank, row in zip(ranks, group)
        ]
        lines += [f"### {dataset}: {modality} missing ({mechanism}, {setting})", ""]
        lines += [tabulate(table, headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
    return lines
