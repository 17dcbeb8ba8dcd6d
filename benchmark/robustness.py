"""Robustness curves from run records: Macro-F1 against missing rate, and their summaries.

A *curve* is one (dataset, split, protocol, device, mechanism, modality, setting); it has one
line per method. Its r = 0 point is the plain run of each seed (no missing setting), shared
by every curve of the dataset. Only *complete* seeds enter a line: seeds with a successful
run at every rate of the curve, so every line's points are paired over the same seeds (same
initialisation, nested masks) and a seed's area and drop are defined.

A curve's rates are its best-covered ones. While a sweep adds rates seed by seed, a new rate
has runs for a few seeds only; requiring it would cut every line down to those seeds. So the
swept rates are ordered by how many runs each has, and the curve takes the most-covered prefix
that keeps the most runs (lines times rates; on a tie, more rates). The rates left out are
*pending*: the report names them and their seeds, and they enter once they have caught up.

Summaries (the protocol's): the area under the curve, i.e. the mean Macro-F1 over the swept
rates (rate 0 included; a mean over the listed rates, not a trapezoid), and the drop at
r = 0.5, F1(0) - F1(0.5). Both are computed per seed, then averaged; the ranking they imply
is by the mean (1 = largest area / smallest drop; equal means share a rank) and carries no
significance test.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Iterable, Sequence

from scipy import stats

from benchmark.record import RunRecord
from benchmark.rows import dataset_label, protocol_label
from benchmark.statistics import Summary, summarize

DROP_RATE = 0.5


@dataclass(frozen=True, order=True)
class CurveKey:
    dataset: str  # with its non-default options
    split: str
    protocol: str
    device: str
    mechanism: str
    modality: str
    setting: str


@dataclass(frozen=True)
class CurveRun:
    """One seed of one method at one rate."""

    key: CurveKey
    method: str  # the line's label: the method, plus its configuration source when tuned
    rate: float
    seed: int
    macro_f1: float
    micro_f1: float
    target_missing_fraction: float


@dataclass(frozen=True)
class CurvePoint:
    """One row of the curve CSV: a method's Macro-F1 at one rate over its complete seeds."""

    key: CurveKey
    method: str
    rate: float
    n_seeds: int
    macro_f1_mean: float
    macro_f1_std: float  # sample standard deviation (ddof = 1)
    macro_f1_ci_low: float  # 95 % t interval of the mean over seeds
    macro_f1_ci_high: float
    micro_f1_mean: float
    target_missing_fraction: float  # target nodes lacking the modality at test, natural and dropped (mean over seeds)


@dataclass(frozen=True)
class RobustnessRow:
    key: CurveKey
    method: str
    n_seeds: int
    rates: tuple[float, ...]
    score_at_zero: Summary
    area: Summary  # per seed: mean Macro-F1 over ``rates``
    drop_at_half: Summary | None  # per seed: F1(0) - F1(0.5); None if 0.5 was not swept
    rank_area: int
    rank_drop: int | None


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """The 95 % confidence interval of the mean (Student t, ddof = 1); NaNs for one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return (math.nan, math.nan)
    half = stats.t.ppf(0.975, n - 1) * summarize(list(values)).std / math.sqrt(n)
    return (mean - half, mean + half)


def curve_runs(records: Iterable[RunRecord]) -> list[CurveRun]:
    """Every successful run that belongs to a curve, the plain runs once per curve they start."""
    latest = {r.spec_id: r for r in records if r.ok and r.metrics is not None}
    swept: list[RunRecord] = []
    plain: dict[tuple[str, str, str, str], list[RunRecord]] = defaultdict(list)
    for record in latest.values():
        if record.spec.missing.active and record.spec.missing.mechanism != "natural":
            swept.append(record)
        elif not record.spec.missing.active:
            plain[_base(record)].append(record)
    keys = {_key(r) for r in swept}
    runs = [_run(_key(r), r, r.spec.missing.rate) for r in swept]
    for key in sorted(keys):
        runs += [_run(key, r, 0.0) for r in plain[(key.dataset, key.split, key.protocol, key.device)]]
    return runs


@dataclass(frozen=True)
class PendingRate:
    """A swept rate left out of its curve because other rates have more runs."""

    key: CurveKey
    rate: float
    n_runs: int
    seeds: tuple[int, ...]


def curve_rates(runs: Sequence[CurveRun]) -> dict[CurveKey, frozenset[float]]:
    """Per curve, the rates that enter it (r = 0 and the best-covered swept rates; see the module docstring)."""
    by_key: dict[CurveKey, list[CurveRun]] = defaultdict(list)
    for run in runs:
        by_key[run.key].append(run)
    return {key: _best_covered_rates(group) for key, group in by_key.items()}


def pending_rates(runs: Sequence[CurveRun]) -> list[PendingRate]:
    """The swept rates that do not (yet) enter their curve, in curve and rate order."""
    taken = curve_rates(runs)
    groups: dict[tuple[CurveKey, float], list[CurveRun]] = defaultdict(list)
    for run in runs:
        if run.rate not in taken[run.key]:
            groups[(run.key, run.rate)].append(run)
    return [PendingRate(key, rate, len(group), tuple(sorted({r.seed for r in group}))) for (key, rate), group in sorted(groups.items())]


def complete_runs(runs: Sequence[CurveRun]) -> list[CurveRun]:
    """The runs of complete seeds only: a (curve, method, seed) with every rate of its curve, at those rates."""
    taken = curve_rates(runs)
    seen: dict[tuple[CurveKey, str, int], set[float]] = defaultdict(set)
    for run in runs:
        seen[(run.key, run.method, run.seed)].add(run.rate)
    return [run for run in runs if run.rate in taken[run.key] and taken[run.key] <= seen[(run.key, run.method, run.seed)]]


def _best_covered_rates(runs: Sequence[CurveRun]) -> frozenset[float]:
    coverage = Counter(run.rate for run in runs if run.rate != 0.0)
    line_rates: dict[tuple[str, int], set[float]] = defaultdict(set)
    for run in runs:
        line_rates[(run.method, run.seed)].add(run.rate)
    best: frozenset[float] = frozenset({0.0})
    best_kept = -1
    for threshold in sorted(set(coverage.values()), reverse=True):  # a growing prefix of the best-covered rates
        rates = frozenset({0.0} | {rate for rate, n in coverage.items() if n >= threshold})
        kept = len(rates) * sum(rates <= seen for seen in line_rates.values())
        if kept >= best_kept:  # on a tie, the longer curve
            best, best_kept = rates, kept
    return best


def curve_points(runs: Sequence[CurveRun]) -> list[CurvePoint]:
    groups: dict[tuple[CurveKey, str, float], list[CurveRun]] = defaultdict(list)
    for run in complete_runs(runs):
        groups[(run.key, run.method, run.rate)].append(run)
    points = []
    for (key, method, rate), group in sorted(groups.items()):
        macro = [r.macro_f1 for r in group]
        summary = summarize(macro)
        low, high = t_interval(macro)
        points.append(CurvePoint(
            key, method=method, rate=rate, n_seeds=summary.n, macro_f1_mean=summary.mean, macro_f1_std=summary.std,
            macro_f1_ci_low=low, macro_f1_ci_high=high, micro_f1_mean=sum(r.micro_f1 for r in group) / len(group),
            target_missing_fraction=sum(r.target_missing_fraction for r in group) / len(group),
        ))
    return points


def line_scores(runs: Sequence[CurveRun]) -> dict[tuple[CurveKey, str], dict[int, dict[float, float]]]:
    """Per (curve, method) line: seed -> rate -> test Macro-F1, over the complete seeds only."""
    by_line: dict[tuple[CurveKey, str], dict[int, dict[float, float]]] = defaultdict(lambda: defaultdict(dict))
    for run in complete_runs(runs):
        by_line[(run.key, run.method)][run.seed][run.rate] = run.macro_f1
    return by_line


def robustness_rows(runs: Sequence[CurveRun]) -> list[RobustnessRow]:
    """Per curve and method: area, drop at r = 0.5 and the ranks they imply, best area first."""
    by_key: dict[CurveKey, list[RobustnessRow]] = defaultdict(list)
    for (key, method), seeds in line_scores(runs).items():
        curves = list(seeds.values())
        rates = tuple(sorted(curves[0]))
        drop = summarize([c[0.0] - c[DROP_RATE] for c in curves]) if DROP_RATE in rates else None
        by_key[key].append(RobustnessRow(
            key, method, len(curves), rates, score_at_zero=summarize([c[0.0] for c in curves]),
            area=summarize([sum(c.values()) / len(c) for c in curves]), drop_at_half=drop, rank_area=0, rank_drop=None,
        ))
    rows = []
    for key in sorted(by_key):
        group = by_key[key]
        area_ranks = _ranks([-r.area.mean for r in group])
        with_drop = [r for r in group if r.drop_at_half is not None]
        drop_ranks = dict(zip((r.method for r in with_drop), _ranks([r.drop_at_half.mean for r in with_drop])))  # type: ignore[union-attr]
        rows += [replace(r, rank_area=a, rank_drop=drop_ranks.get(r.method)) for r, a in zip(group, area_ranks)]
    rows.sort(key=lambda r: (r.key, r.rank_area, r.method))
    return rows


def write_curve_csv(points: Sequence[CurvePoint], path: Path) -> Path:
    """Scores are fractions (0..1), not percentages; one row per (curve, method, rate)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields(CurveKey)] + [f.name for f in fields(CurvePoint)][1:])
        for point in points:
            values = list(astuple(point.key)) + [getattr(point, f.name) for f in fields(CurvePoint)][1:]
            writer.writerow([f"{v:.6f}" if isinstance(v, float) else v for v in values])
    tmp.replace(path)
    return path


def _ranks(values: list[float]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of ascending values."""
    return [1 + sum(other < value for other in values) for value in values]


def _base(record: RunRecord) -> tuple[str, str, str, str]:
    s = record.spec
    return (dataset_label(s.dataset, s.dataset_options), s.split, protocol_label(s.max_epochs, s.patience), s.device.split(":")[0])


def _key(record: RunRecord) -> CurveKey:
    m = record.spec.missing
    return CurveKey(*_base(record), mechanism=m.mechanism, modality=m.modality, setting=m.setting)


def _run(key: CurveKey, record: RunRecord, rate: float) -> CurveRun:
    s, metrics = record.spec, record.metrics
    assert metrics is not None
    method = s.method if s.config_source == "defaults" else f"{s.method} [{s.config_source}]"
    fraction = record.target_missing.get(key.modality, math.nan)
    return CurveRun(key, method, rate, s.seed, metrics.test_macro_f1, metrics.test_micro_f1, fraction)
