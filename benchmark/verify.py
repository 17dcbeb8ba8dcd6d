"""``run_all.py --verify N``: train recorded runs again and say whether the records still come out.

A seeded draw picks N records of a results folder (spread over the methods, so a small N
still sees every method), each spec is trained again with this checkout's harness on this
machine, and the selected epoch, validation and test Macro-F1 are compared with the record:

* *exact*: the same epoch and bit-identical scores;
* *within tolerance*: the same epoch, and both scores within :data:`F1_TOLERANCE` (another
  CPU or BLAS build can sum floats in another order, which may flip a handful of close
  predictions; the selected epoch must still agree);
* *differs*: anything else, with the differences.

Nothing is written to the results folder, and stored selected weights are never loaded (each
run gets a cache folder of its own), so a ``test_only`` record trains its model too.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterable

from benchmark.grid import DatasetCache
from benchmark.record import RunRecord
from benchmark.run import execute_run

# 0.1 points of Macro-F1 (scores are stored as fractions): on the real datasets' test splits
# (about 2,900 and 2,500 target nodes) a few nodes' predictions.
F1_TOLERANCE = 1e-3


class Match(Enum):
    EXACT = "exact"
    WITHIN_TOLERANCE = "within tolerance"
    DIFFERS = "differs"


@dataclass(frozen=True)
class Verification:
    recorded: RunRecord
    now: RunRecord

    @property
    def differences(self) -> list[str]:
        """What differs between the record and the new run: selected epoch, validation and test Macro-F1."""
        if not self.now.ok or self.now.cost is None or self.now.metrics is None:
            return [f"the new run failed: {self.now.error}"]
        assert self.recorded.cost is not None and self.recorded.metrics is not None
        out = []
        if self.now.cost.best_epoch != self.recorded.cost.best_epoch:
            out.append(f"selected epoch {self.recorded.cost.best_epoch} -> {self.now.cost.best_epoch}")
        for name in ("val_macro_f1", "test_macro_f1"):
            old, new = getattr(self.recorded.metrics, name), getattr(self.now.metrics, name)
            if old != new:
                out.append(f"{name} {old:.6f} -> {new:.6f} ({100 * (new - old):+.4f} points)")
        return out

    @property
    def match(self) -> Match:
        if not self.differences:
            return Match.EXACT
        now, recorded = self.now, self.recorded
        if now.metrics is None or now.cost is None or now.cost.best_epoch != recorded.cost.best_epoch:  # type: ignore[union-attr]
            return Match.DIFFERS
        close = all(abs(getattr(now.metrics, n) - getattr(recorded.metrics, n)) <= F1_TOLERANCE for n in ("val_macro_f1", "test_macro_f1"))
        return Match.WITHIN_TOLERANCE if close else Match.DIFFERS


def draw(records: Iterable[RunRecord], n: int, seed: int) -> list[RunRecord]:
    """``n`` successful records picked at random with ``seed``, every method before any repeats.

    Methods are visited in a seeded order, each taking its next seeded-shuffled record, round
    after round: with ``n`` at least the number of methods, every method is represented.
    """
    rng = random.Random(seed)
    by_method: dict[str, list[RunRecord]] = defaultdict(list)
    for r in sorted((r for r in records if r.ok and r.metrics is not None and r.cost is not None), key=lambda r: r.spec_id):
        by_method[r.spec.method].append(r)
    methods = sorted(by_method)
    rng.shuffle(methods)
    for method in methods:
        rng.shuffle(by_method[method])
    picked: list[RunRecord] = []
    depth = 0
    while len(picked) < n and any(depth < len(by_method[m]) for m in methods):
        picked += [by_method[m][depth] for m in methods if depth < len(by_method[m])][: n - len(picked)]
        depth += 1
    return picked


def verify_record(record: RunRecord, datasets: DatasetCache) -> Verification:
    """Train ``record``'s spec again, with a cache folder of its own (no stored weights to load)."""
    try:
        mmhn, fingerprint = datasets.get(record.spec.dataset, record.spec.dataset_options)
    except Exception as error:  # noqa: BLE001 - a dataset that no longer loads is a difference, not a crash
        failed = RunRecord(spec=record.spec, spec_id=record.spec_id, status="failed", error=f"loading the dataset: {error}")
        return Verification(record, failed)
    with tempfile.TemporaryDirectory(prefix="mmhn-verify-") as cache:
        return Verification(record, execute_run(record.spec, mmhn, Path(cache), fingerprint))


def describe(record: RunRecord) -> str:
    if not record.ok or record.cost is None or record.metrics is None:
        return f"failed: {record.error}"
    m = record.metrics
    return f"epoch {record.cost.best_epoch} of {record.cost.epochs_run}, val Macro-F1 {m.val_macro_f1:.6f}, test Macro-F1 {m.test_macro_f1:.6f}"


@dataclass(frozen=True)
class VerifySummary:
    results: list[Verification]

    def count(self, match: Match) -> int:
        return sum(v.match is match for v in self.results)

    @property
    def ok(self) -> bool:
        return self.count(Match.DIFFERS) == 0

    def text(self) -> str:
        n = len(self.results)
        return (f"{self.count(Match.EXACT)} of {n} match exactly, {self.count(Match.WITHIN_TOLERANCE)} within tolerance "
                f"(same selected epoch, validation and test Macro-F1 within {100 * F1_TOLERANCE:g} points), "
                f"{self.count(Match.DIFFERS)} differ")
