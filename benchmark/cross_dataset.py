"""Across datasets: average ranks, and Friedman + Nemenyi (a critical-difference diagram).

The comparison runs over the sections of one protocol (the headline protocol, see
:func:`headline_protocol`). Ranks are by mean test Macro-F1 within each section, ties
averaged (Demšar, JMLR 2006), over the entries (method and configuration source) that have a
row in every section: an entry missing somewhere cannot be ranked fairly and is listed apart.
Friedman's test and the Nemenyi critical difference come from ``autorank`` (forced to the
non-parametric path) once there are at least ``MIN_DATASETS_FOR_CD`` distinct datasets and
three complete entries; with fewer the omnibus test has too little power to mean anything.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections import Counter
from dataclasses import dataclass

from benchmark.comparison import SectionAnalysis
from benchmark.ranking import average_ranks
from benchmark.rows import SectionKey

MIN_DATASETS_FOR_CD = 5
HEADLINE_PROTOCOL = "standard"


@dataclass(frozen=True)
class EntryRanks:
    method: str  # the row label (method, with a configuration id when ambiguous)
    config_source: str
    scores: tuple[float, ...]  # mean test Macro-F1, one per section, aligned with ``CrossDatasetRanking.sections``
    ranks: tuple[float, ...]  # one per section, among the complete entries
    average_rank: float

    @property
    def label(self) -> str:
        return entry_label(self.method, self.config_source)


@dataclass(frozen=True)
class FriedmanNemenyi:
    p_value: float  # Friedman's omnibus test
    critical_difference: float  # Nemenyi, at alpha
    alpha: float


@dataclass(frozen=True)
class CrossDatasetRanking:
    protocol: str
    sections: tuple[SectionKey, ...]
    entries: tuple[EntryRanks, ...]  # complete entries, best average rank first
    incomplete: tuple[tuple[str, str, tuple[str, ...]], ...]  # (method, config source, datasets it lacks)
    distinct_datasets: int
    friedman: FriedmanNemenyi | None
    no_diagram_reason: str  # why there is no critical-difference diagram ('' when there is one)


def base_dataset(section: SectionKey) -> str:
    """The dataset name without its options: ``synthetic (scale=4.0)`` -> ``synthetic``."""
    return section.dataset.split(" (", 1)[0]


def headline_protocol(keys: list[SectionKey]) -> str | None:
    """``standard`` when any section uses it, else the protocol with the most sections."""
    counts = Counter(k.protocol for k in keys)
    if not counts:
        return None
    if HEADLINE_PROTOCOL in counts:
        return HEADLINE_PROTOCOL
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def rank_across(analyses: list[SectionAnalysis], protocol: str, alpha: float = 0.05) -> CrossDatasetRanking:
    chosen = [a for a in analyses if a.key.protocol == protocol]
    keys = tuple(a.key for a in chosen)
    scores: dict[tuple[str, str], dict[SectionKey, float]] = {}
    for analysis in chosen:
        for row in analysis.rows:
            scores.setdefault((row.label, row.row.key.config_source), {})[analysis.key] = row.row.test_macro_f1.mean
    complete = sorted(entry for entry, by_section in scores.items() if len(by_section) == len(keys))
    incomplete = tuple(
        (method, source, tuple(k.title for k in keys if k not in scores[(method, source)]))
        for method, source in sorted(set(scores) - set(complete))
    )
    per_section = [average_ranks([scores[e][k] for e in complete]) for k in keys]
    entries = [
        EntryRanks(method, source, tuple(scores[(method, source)][k] for k in keys), tuple(ranks[i] for ranks in per_section),
                   sum(ranks[i] for ranks in per_section) / len(keys))
        for i, (method, source) in enumerate(complete)
    ] if keys else []
    entries.sort(key=lambda e: (e.average_rank, e.method, e.config_source))
    distinct = len({base_dataset(k) for k in keys})
    reason = ""
    if distinct < MIN_DATASETS_FOR_CD:
        reason = (f"No critical-difference diagram: it needs at least {MIN_DATASETS_FOR_CD} datasets and protocol "
                  f"`{protocol}` has {distinct}; with so few, Friedman's test has almost no power and the Nemenyi "
                  "critical difference spans nearly the whole rank range.")
    elif len(entries) < 3:
        reason = f"No critical-difference diagram: Friedman's test needs at least 3 methods present on every dataset; there are {len(entries)}."
    friedman = None
    if not reason:
        result = autorank_result(entries, alpha)
        friedman = FriedmanNemenyi(p_value=float(result.pvalue), critical_difference=float(result.cd), alpha=alpha)
    return CrossDatasetRanking(protocol, keys, tuple(entries), incomplete, distinct, friedman, reason)


def autorank_result(entries: list[EntryRanks] | tuple[EntryRanks, ...], alpha: float = 0.05):  # noqa: ANN201 - autorank's RankResult
    """Friedman + Nemenyi with autorank (datasets as blocks); its prints and warnings are swallowed."""
    import pandas as pd
    from autorank import autorank

    table = pd.DataFrame({e.label: list(e.scores) for e in entries})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return autorank(table, alpha=alpha, verbose=False, order="descending", force_mode="nonparametric")


def entry_label(method: str, config_source: str) -> str:
    return method if config_source == "defaults" else f"{method} ({config_source})"
