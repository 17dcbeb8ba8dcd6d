"""Within one leaderboard section: the reference row, paired tests against it, the tie group, ranks.

* Reference: the row with the highest mean test Macro-F1 (ties: first by method name, then
  configuration). Choosing it changes no number: no model, epoch or hyperparameter is picked
  on test; it only fixes which comparisons are shown. The validation score was not used for
  it because the validation Macro-F1 of a run is the maximum over its epochs, optimistic by
  a different amount for every method.
* Every other row is compared with the reference over their shared seeds (exact Wilcoxon
  signed-rank; paired t-test as a check), both Holm-corrected across the rows of the section.
* Tie group: the reference and every row that is not significantly worse (Holm-adjusted
  Wilcoxon p >= alpha, or a non-negative mean difference). Rows without a shared seed cannot
  be compared and are left out of it.
* Ranks: the tie group has rank 1; every other row keeps its rank by mean test Macro-F1
  among all rows (ties averaged), the rank the cross-dataset comparison uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmark.pareto import pareto_front
from benchmark.ranking import average_ranks
from benchmark.rows import LeaderboardRow, SectionKey
from benchmark.significance import PairedComparison, compare_paired, holm

ALPHA = 0.05


@dataclass(frozen=True)
class RowAnalysis:
    row: LeaderboardRow
    label: str  # the method, plus its configuration id where two rows would read the same
    comparison: PairedComparison | None  # None for the reference row
    wilcoxon_holm: float  # NaN for the reference or without shared seeds
    t_test_holm: float
    in_tie_group: bool
    rank: float  # 1 in the tie group, else ``mean_rank``
    mean_rank: float  # rank by mean test Macro-F1 among the section's rows, ties averaged
    on_pareto_front: bool  # mean test Macro-F1 against mean seconds per epoch

    @property
    def is_reference(self) -> bool:
        return self.comparison is None

    @property
    def tests_disagree(self) -> bool:
        """The paired t-test reaches the other decision than the Wilcoxon test."""
        if self.comparison is None or math.isnan(self.t_test_holm) or math.isnan(self.wilcoxon_holm):
            return False
        return (self.wilcoxon_holm < ALPHA) != (self.t_test_holm < ALPHA)


@dataclass(frozen=True)
class SectionAnalysis:
    key: SectionKey
    rows: list[RowAnalysis]  # the reference, the rest of the tie group, then the others; each by mean test Macro-F1
    alpha: float

    @property
    def reference(self) -> RowAnalysis:
        return next(r for r in self.rows if r.is_reference)

    @property
    def tie_group(self) -> list[RowAnalysis]:
        return [r for r in self.rows if r.in_tie_group]


def row_labels(rows: list[LeaderboardRow]) -> list[str]:
    """The method name, with ``[config <id>]`` where two rows share method and config source."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        seen[(row.key.method, row.key.config_source)] = seen.get((row.key.method, row.key.config_source), 0) + 1
    return [
        row.key.method + (f" [config {row.key.config_id}]" if seen[(row.key.method, row.key.config_source)] > 1 else "")
        for row in rows
    ]


def analyse_section(key: SectionKey, rows: list[LeaderboardRow], alpha: float = ALPHA) -> SectionAnalysis:
    if not rows:
        raise ValueError(f"section {key.title} has no rows")
    ordered = sorted(rows, key=lambda r: (-r.test_macro_f1.mean, r.key.method, r.key.config_source, r.key.config_id))
    reference = ordered[0]
    others = ordered[1:]
    comparisons = [compare_paired(r.test_macro_f1_by_seed, reference.test_macro_f1_by_seed) for r in others]
    wilcoxon_holm = holm([c.wilcoxon_p for c in comparisons])
    t_test_holm = holm([c.t_test_p for c in comparisons])
    mean_ranks = average_ranks([r.test_macro_f1.mean for r in ordered])
    front = pareto_front([r.test_macro_f1.mean for r in ordered], [r.seconds_per_epoch for r in ordered])
    labels = row_labels(ordered)
    analyses = [RowAnalysis(reference, labels[0], None, math.nan, math.nan, True, 1.0, mean_ranks[0], front[0])]
    for i, (row, comparison) in enumerate(zip(others, comparisons), start=1):
        worse = comparison.n_pairs > 0 and wilcoxon_holm[i - 1] < alpha and comparison.mean_difference < 0
        tied = comparison.n_pairs > 0 and not worse
        analyses.append(
            RowAnalysis(row, labels[i], comparison, wilcoxon_holm[i - 1], t_test_holm[i - 1], tied,
                        1.0 if tied else mean_ranks[i], mean_ranks[i], front[i])
        )
    analyses.sort(key=lambda a: (not a.is_reference, not a.in_tie_group, a.mean_rank, a.label, a.row.key.config_source))
    return SectionAnalysis(key=key, rows=analyses, alpha=alpha)
