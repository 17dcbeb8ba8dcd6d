"""Records grouped into leaderboard rows: one row per (dataset, split, protocol, device, method, configuration).

A row keeps its per-seed scores (the paired tests need them) and its cost. Only records of
the plain setting enter rows: a record whose spec sets a field beyond the base fields below
(e.g. a missing-modality setting added by a later spec field) belongs to another table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from benchmark.protocol import PROTOCOLS
from benchmark.record import RunRecord
from benchmark.spec import RunSpec
from benchmark.statistics import Summary, summarize

# Spec fields that define the plain leaderboard; any other field set to a non-default value
# makes a record part of another setting (see :func:`setting_of`).
BASE_SPEC_FIELDS = frozenset(
    {"method", "dataset", "split", "seed", "hparams", "max_epochs", "patience", "device", "dataset_options", "config_source"}
)


@dataclass(frozen=True)
class RowKey:
    """Records that differ only in their seed share a row."""

    dataset: str  # with its non-default options, e.g. "synthetic (scale=4.0)"
    split: str
    method: str
    config_source: str
    protocol: str
    device: str  # device type: "cpu" or "cuda"
    config_id: str = ""  # hash of the resolved hyperparameters: two tuned configurations never share a row

    @property
    def section(self) -> SectionKey:
        return SectionKey(self.dataset, self.split, self.protocol, self.device)


@dataclass(frozen=True, order=True)
class SectionKey:
    """One table of the leaderboard: rows in a section are compared with each other."""

    dataset: str
    split: str
    protocol: str
    device: str

    @property
    def title(self) -> str:
        return f"{self.dataset} (split `{self.split}`, protocol `{self.protocol}`, device {self.device})"


@dataclass(frozen=True)
class LeaderboardRow:
    key: RowKey
    test_macro_f1: Summary
    test_micro_f1: Summary
    val_macro_f1: Summary
    seconds_per_epoch: float  # means over the row's seeds
    num_parameters: int
    failed: int  # seeds with a failed record and no successful one
    seconds_to_best: float = math.nan
    peak_memory_mb: float = math.nan
    test_macro_f1_by_seed: Mapping[int, float] = field(default_factory=dict)
    failed_seeds: tuple[int, ...] = ()
    duplicate_seeds: tuple[int, ...] = ()  # seeds run more than once under one row (latest kept)
    device_names: tuple[str, ...] = ()
    parameter_counts: tuple[int, ...] = ()  # every distinct count seen (one, normally)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted(self.test_macro_f1_by_seed))


def protocol_label(max_epochs: int, patience: int) -> str:
    for protocol in PROTOCOLS.values():
        if (protocol.max_epochs, protocol.patience) == (max_epochs, patience):
            return protocol.name
    return f"custom ({max_epochs} epochs, patience {patience})"


def dataset_label(dataset: str, options: dict) -> str:
    if not options:
        return dataset
    return f"{dataset} ({', '.join(f'{k}={v}' for k, v in sorted(options.items()))})"


def config_id(hparams: dict) -> str:
    return hashlib.sha256(json.dumps(hparams, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:8]


def setting_of(spec: RunSpec) -> str:
    """'' for the plain setting, else the non-base fields of the canonical spec, e.g. ``missing=...``."""
    extra = {k: v for k, v in spec.canonical().items() if k not in BASE_SPEC_FIELDS}
    return ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(extra.items()))


def row_key(record: RunRecord) -> RowKey:
    s = record.spec
    return RowKey(
        dataset_label(s.dataset, s.dataset_options), s.split, s.method, s.config_source,
        protocol_label(s.max_epochs, s.patience), s.device.split(":")[0], config_id(s.hparams),
    )


def latest_records(records: Iterable[RunRecord]) -> list[RunRecord]:
    """The last record of every spec id (a retried failure is superseded by its retry)."""
    return list({r.spec_id: r for r in records}.values())


def leaderboard_rows(records: Iterable[RunRecord]) -> list[LeaderboardRow]:
    """One row per key from the plain-setting records, sorted by section then mean test Macro-F1."""
    groups: dict[RowKey, list[RunRecord]] = defaultdict(list)
    for record in latest_records(records):
        if not setting_of(record.spec):
            groups[row_key(record)].append(record)
    rows = [row for key, group in groups.items() if (row := _row(key, group)) is not None]
    rows.sort(key=lambda r: (r.key.section, -r.test_macro_f1.mean, r.key.method, r.key.config_source, r.key.config_id))
    return rows


@dataclass(frozen=True)
class FailedRow:
    """A row whose every seed failed: it has no scores, but the page must not hide it."""

    key: RowKey
    seeds: tuple[int, ...]
    error: str  # the error of the lowest failed seed


def failed_rows(records: Iterable[RunRecord]) -> list[FailedRow]:
    groups: dict[RowKey, list[RunRecord]] = defaultdict(list)
    for record in latest_records(records):
        if not setting_of(record.spec):
            groups[row_key(record)].append(record)
    out = []
    for key, group in groups.items():
        if not any(r.ok for r in group):
            first = min(group, key=lambda r: (r.spec.seed, r.spec_id))
            out.append(FailedRow(key, tuple(sorted({r.spec.seed for r in group})), first.error))
    return sorted(out, key=lambda f: (f.key.section, f.key.method, f.key.config_source, f.key.config_id))


def _row(key: RowKey, group: list[RunRecord]) -> LeaderboardRow | None:
    by_seed: dict[int, list[RunRecord]] = defaultdict(list)
    for record in group:
        if record.ok and record.metrics is not None and record.cost is not None:
            by_seed[record.spec.seed].append(record)
    if not by_seed:
        return None
    # Two specs of one row and seed differ only in the device index (cuda:0 / cuda:1): keep the latest.
    chosen = {seed: max(runs, key=lambda r: (r.finished_at, r.spec_id)) for seed, runs in sorted(by_seed.items())}
    ok = list(chosen.values())
    failed_seeds = tuple(sorted({r.spec.seed for r in group if not r.ok} - set(chosen)))
    return LeaderboardRow(
        key=key,
        test_macro_f1=summarize([r.metrics.test_macro_f1 for r in ok]),  # type: ignore[union-attr]
        test_micro_f1=summarize([r.metrics.test_micro_f1 for r in ok]),  # type: ignore[union-attr]
        val_macro_f1=summarize([r.metrics.val_macro_f1 for r in ok]),  # type: ignore[union-attr]
        seconds_per_epoch=_mean(r.cost.seconds_per_epoch for r in ok),  # type: ignore[union-attr]
        num_parameters=ok[0].cost.num_parameters,  # type: ignore[union-attr]
        failed=len(failed_seeds),
        seconds_to_best=_mean(r.cost.seconds_to_best for r in ok),  # type: ignore[union-attr]
        peak_memory_mb=_mean(r.cost.peak_memory_mb for r in ok),  # type: ignore[union-attr]
        test_macro_f1_by_seed={seed: r.metrics.test_macro_f1 for seed, r in chosen.items()},  # type: ignore[union-attr]
        failed_seeds=failed_seeds,
        duplicate_seeds=tuple(seed for seed, runs in sorted(by_seed.items()) if len(runs) > 1),
        device_names=tuple(sorted({r.cost.device_name for r in ok})),  # type: ignore[union-attr]
        parameter_counts=tuple(sorted({r.cost.num_parameters for r in ok})),  # type: ignore[union-attr]
    )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return math.fsum(items) / len(items)


def sections(rows: Iterable[LeaderboardRow]) -> dict[SectionKey, list[LeaderboardRow]]:
    """Rows grouped by section, sections in sorted order, rows in their given order."""
    grouped: dict[SectionKey, list[LeaderboardRow]] = defaultdict(list)
    for row in rows:
        grouped[row.key.section].append(row)
    return {key: grouped[key] for key in sorted(grouped)}
