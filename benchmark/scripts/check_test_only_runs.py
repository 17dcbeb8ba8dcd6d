"""Does every ``test_only`` run select what its plain run selected?

    python benchmark/scripts/check_test_only_runs.py [--out results] [--dataset imdb_mm]

A ``test_only`` point of a robustness curve trains on the complete graph, exactly as the plain
run of its spec (the same spec without the missing setting), and only drops a modality when it
evaluates; so its selected epoch and validation Macro-F1 must equal the plain run's. Where they
do not, the curve's r = 0 point and its other points come from two different models. This script
pairs every ``test_only`` record in ``--out`` with its plain record and prints, per leaderboard
row, how many match (compared exactly) and how many trained or loaded stored weights, then every
row with a mismatch, with both runs' code version and device: the device name carries the CPU
model since 2026-12-02, and a CPU of another vendor may round differently (see the README). It
reads validation scores only and writes nothing. Exit status 1 when a pair differs or a plain
record is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmark.record import RunRecord  # noqa: E402
from benchmark.record_store import RecordStore  # noqa: E402
from benchmark.rows import RowKey, latest_records, row_key  # noqa: E402
from benchmark.selected_weights import plain_spec  # noqa: E402


@dataclass(frozen=True)
class Selection:
    """What a run's training selected: its best epoch and that epoch's validation Macro-F1."""

    best_epoch: int
    val_macro_f1: float

    @classmethod
    def of(cls, record: RunRecord) -> Selection:
        assert record.cost is not None and record.metrics is not None
        return cls(record.cost.best_epoch, record.metrics.val_macro_f1)

    def __str__(self) -> str:
        return f"epoch {self.best_epoch}, val Macro-F1 {self.val_macro_f1:.6f}"


@dataclass(frozen=True)
class RowConsistency:
    """The ``test_only`` runs of one (row, seed) against their plain run (None when not recorded)."""

    key: RowKey
    seed: int
    plain: RunRecord | None
    test_only: tuple[RunRecord, ...]

    @property
    def matching(self) -> int:
        if self.plain is None:
            return 0
        return sum(Selection.of(run) == Selection.of(self.plain) for run in self.test_only)

    @property
    def loaded(self) -> int:
        return sum(bool(run.weights_from) for run in self.test_only)

    @property
    def consistent(self) -> bool:
        return self.plain is not None and self.matching == len(self.test_only)


def consistency(records: list[RunRecord], dataset: str | None = None) -> list[RowConsistency]:
    """One entry per (leaderboard row, seed) that has successful ``test_only`` runs, sorted."""
    latest = latest_records(records)
    by_id = {r.spec_id: r for r in latest if r.ok}
    groups: dict[str, list[RunRecord]] = defaultdict(list)
    for record in latest:
        if record.ok and record.spec.missing.only_at_test and dataset in (None, record.spec.dataset):
            groups[plain_spec(record.spec).spec_id].append(record)
    rows = []
    for plain_id, runs in groups.items():
        first = runs[0]
        runs.sort(key=lambda r: (r.spec.missing.modality, r.spec.missing.rate))
        rows.append(RowConsistency(row_key(first), first.spec.seed, by_id.get(plain_id), tuple(runs)))
    return sorted(rows, key=lambda row: (repr(row.key), row.seed))


def _describe(record: RunRecord) -> str:
    device = record.cost.device_name if record.cost else "?"
    return f"{Selection.of(record)} (code {record.versions.get('code', '?')}, {device})"


def report(rows: list[RowConsistency]) -> str:
    by_key: dict[RowKey, list[RowConsistency]] = defaultdict(list)
    for row in rows:
        by_key[row.key].append(row)
    lines = []
    for key, seeds in by_key.items():
        runs = sum(len(row.test_only) for row in seeds)
        matching = sum(row.matching for row in seeds)
        loaded = sum(row.loaded for row in seeds)
        lines.append(f"{key.dataset} {key.method} [{key.config_source}] {key.protocol}: {matching} of {runs} test_only runs match their plain run "
                     f"({runs - loaded} trained, {loaded} loaded stored weights; seeds {', '.join(str(row.seed) for row in seeds)})")
    bad = [row for row in rows if not row.consistent]
    total = sum(len(row.test_only) for row in rows)
    lines.append(f"{sum(row.matching for row in rows)} of {total} test_only runs match their plain run; "
                 f"{len(bad)} (row, seed) pair(s) differ")
    for row in bad:
        lines.append(f"  {row.key.method} [{row.key.config_source}] seed {row.seed}:")
        lines.append(f"    plain:     {_describe(row.plain) if row.plain else 'no successful plain record'}")
        for run in row.test_only:
            if row.plain is None or Selection.of(run) != Selection.of(row.plain):
                lines.append(f"    {run.spec.missing.label()}: {_describe(run)}{' loaded' if run.weights_from else ''}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="results folder (its records/)")
    parser.add_argument("--dataset", default=None, help="only this dataset's runs (default: every dataset)")
    args = parser.parse_args()
    store = RecordStore(Path(args.out))
    if not store.exists():
        raise SystemExit(f"no records in {args.out}")
    rows = consistency(store.load(), args.dataset)
    print(report(rows))
    sys.exit(0 if all(row.consistent for row in rows) else 1)


if __name__ == "__main__":
    main()
