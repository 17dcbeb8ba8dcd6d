"""The robustness part of the report: leaderboard section, console table, CSV and figures."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

from tabulate import tabulate

from benchmark.record import RunRecord
from benchmark.robustness import (
    CurveKey, PendingRate, RobustnessRow, curve_points, curve_runs, pending_rates, robustness_rows, write_curve_csv,
)
from benchmark.statistics import Summary

CURVES_FILE = "robustness_curves.csv"
SETTING_TEXT = {"train_test": "dropped in training and test", "test_only": "dropped at test only (trained on complete data)"}
HEADERS = ["method", "area (mean over r)", "rank", "Macro-F1 at r = 0", "drop at r = 0.5", "rank", "seeds"]

CONVENTIONS = """\
Robustness conventions: one modality of every eligible node (a node that has it and at least
one other modality: no node loses all of its modalities) is dropped, its features zeroed and
its presence flag cleared before the method sees the graph. Masks are a pure function of
(dataset, seed, mechanism, modality, rate), identical for every method (paired; the record
stores their checksum) and nested across rates. `train_test`: dropped for training, selection
and test; `test_only`: trained and selected on the complete graph, dropped for the single test
evaluation. r = 0 is the plain run. Area: mean test Macro-F1 over the swept rates (r = 0
included), computed per seed then averaged; drop: Macro-F1 at r = 0 minus at r = 0.5, in
points, per seed then averaged. Values are mean ± sample standard deviation (ddof = 1) over the
seeds that have every rate. Ranks order the means (1 = largest area, smallest drop; equal means
share a rank); they are not significance tests. A curve takes its best-covered rates; a rate
that a sweep is still adding seed by seed is listed as pending and enters once it has caught up.
"""


def _pct(summary: Summary | None) -> str:
    if summary is None:
        return "n/a"
    std = "n/a" if summary.n < 2 else f"{100 * summary.std:.2f}"
    return f"{100 * summary.mean:.2f} ± {std}"


def _pending_text(pending: PendingRate) -> str:
    seeds = ("seed " if len(pending.seeds) == 1 else "seeds ") + ", ".join(map(str, pending.seeds))
    return f"{pending.rate:g} ({pending.n_runs} runs, {seeds})"


def table_rows(rows: list[RobustnessRow]) -> list[list[str]]:
    return [
        [r.method, _pct(r.area), str(r.rank_area), _pct(r.score_at_zero), _pct(r.drop_at_half),
         "n/a" if r.rank_drop is None else str(r.rank_drop), str(r.n_seeds)]
        for r in rows
    ]


def curve_title(key: CurveKey) -> str:
    return f"{key.dataset}: `{key.modality}` missing, {key.mechanism}, {SETTING_TEXT.get(key.setting, key.setting)}"


def robustness_section(records: Iterable[RunRecord]) -> list[str]:
    """Markdown lines for the leaderboard; empty when no sweep has run."""
    runs = curve_runs(records)
    if not runs:
        return []
    rows = robustness_rows(runs)
    by_key: dict[CurveKey, list[RobustnessRow]] = defaultdict(list)
    for row in rows:
        by_key[row.key].append(row)
    lines = {(run.key, run.method) for run in runs}
    pending = pending_rates(runs)
    parts = ["## Robustness to missing modalities", ""]
    for key in sorted({run.key for run in runs}):
        section = by_key.get(key, [])
        parts += [f"### {curve_title(key)} (split `{key.split}`, protocol `{key.protocol}`, device {key.device})", ""]
        if section:
            rates = ", ".join(f"{r:g}" for r in section[0].rates)
            parts += [f"Rates: {rates}.", "", tabulate(table_rows(section), headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
        incomplete = sorted({method for k, method in lines if k == key} - {r.method for r in section})
        if incomplete:
            parts += [f"No seed with every rate yet (left out): {', '.join(incomplete)}.", ""]
        waiting = [p for p in pending if p.key == key]
        if waiting:
            parts += [f"Pending rates (left out until they have caught up): {'; '.join(map(_pending_text, waiting))}.", ""]
    parts += [CONVENTIONS]
    return parts


def console_table(records: Iterable[RunRecord]) -> str:
    rows = robustness_rows(curve_runs(records))
    body = [[f"{r.key.dataset} {r.key.modality} {r.key.mechanism} {r.key.setting}"] + t for r, t in zip(rows, table_rows(rows))]
    return tabulate(body, headers=["curve"] + HEADERS, tablefmt="simple", disable_numparse=True)


def write_robustness_outputs(records: Iterable[RunRecord], out: Path) -> list[Path]:
    """The curve CSV and one PNG per curve, from every record in ``records``."""
    from benchmark.robustness_plot import plot_curves  # matplotlib only when figures are drawn

    runs = curve_runs(records)
    if not runs:
        return []
    return [write_curve_csv(curve_points(runs), out / CURVES_FILE), *plot_curves(runs, out)]
