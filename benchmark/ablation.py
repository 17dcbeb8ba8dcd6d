"""Ablation tables: every variant of a model against the full model, paired by seed.

Generic over the model: the full model is the method named ``prefix`` (e.g. ``hgnn_ima``),
its variants are the methods named ``prefix_*`` (``hgnn_ima_no_alignment``, ...). A variant
is compared with the full model of the same section and the same configuration source
(defaults against defaults, tuned against tuned); the paired tests are Holm-corrected across
the variants of one full model.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.rows import LeaderboardRow, SectionKey, sections
from benchmark.significance import PairedComparison, compare_paired, holm

DEFAULT_ABLATION_PREFIX = "hgnn_ima"


@dataclass(frozen=True)
class AblationRow:
    section: SectionKey
    full: LeaderboardRow
    variant: LeaderboardRow
    comparison: PairedComparison  # variant - full over shared seeds
    wilcoxon_holm: float
    t_test_holm: float


def ablation_rows(rows: list[LeaderboardRow], prefix: str = DEFAULT_ABLATION_PREFIX) -> list[AblationRow]:
    out: list[AblationRow] = []
    for key, section in sections(rows).items():
        for full in sorted((r for r in section if r.key.method == prefix), key=lambda r: (r.key.config_source, r.key.config_id)):
            variants = sorted(
                (r for r in section if r.key.method.startswith(prefix + "_") and r.key.config_source == full.key.config_source),
                key=lambda r: (r.key.method, r.key.config_id),
            )
            comparisons = [compare_paired(v.test_macro_f1_by_seed, full.test_macro_f1_by_seed) for v in variants]
            wilcoxon = holm([c.wilcoxon_p for c in comparisons])
            t_test = holm([c.t_test_p for c in comparisons])
            out += [AblationRow(key, full, v, c, w, t) for v, c, w, t in zip(variants, comparisons, wilcoxon, t_test)]
    return out
