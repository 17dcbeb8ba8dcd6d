"""What a grid invocation will do before it does it: runs to train, runs reused, and how long.

A run is reused only from a successful record of this code's versions
(:mod:`benchmark.number_versions`); the time is estimated from the cost columns of the
records that ran the same method on the same data under the same protocol (or, failing
that, on the same dataset), whatever their versions: an old record still says what a run
of that size costs here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from benchmark.number_versions import split_current
from benchmark.record import RunRecord
from benchmark.spec import RunSpec


@dataclass(frozen=True)
class RunPlan:
    total: int
    to_train: list[RunSpec]
    reused: list[RunRecord]  # the current successful record of every spec not trained
    replacing_stale: int  # specs to train that have a record of other code versions
    estimated_seconds: float  # summed over the runs to train that have comparable records
    estimated_runs: int  # how many runs to train the estimate covers

    def lines(self, out: Path, parallel_runs: int | None) -> list[str]:
        """What the terminal shows before training (or instead of it)."""
        lines = [f"plan: {self.total} runs; {len(self.to_train)} to train, {len(self.reused)} reused from {out}"]
        if self.reused:
            commits = Counter(r.versions.get("code", "unknown") for r in self.reused)
            shown = ", ".join(f"{code} ({n})" for code, n in commits.most_common(3))
            more = f" and {len(commits) - 3} more" if len(commits) > 3 else ""
            lines.append(f"  reused records are of this code's method and harness versions, made at commit(s) {shown}{more}")
        if self.replacing_stale:
            lines.append(f"  {self.replacing_stale} of the runs to train replace records of other code versions (stale)")
        if not self.to_train:
            lines.append(f"  nothing to train: every run already has a current record in {out}. "
                         "To compute them again, run into a fresh folder with --out DIR")
        elif self.estimated_runs:
            wall = "" if not parallel_runs else f", about {duration(self.estimated_seconds / parallel_runs)} of wall time at {parallel_runs} run(s) at once"
            partial = "" if self.estimated_runs == len(self.to_train) else f" for {self.estimated_runs} of them (no comparable record for the rest)"
            lines.append(f"  estimate: {duration(self.estimated_seconds)} of run time{partial}{wall}, "
                         "from the cost of comparable records")
        else:
            lines.append("  estimate: none (no comparable record in this folder)")
        return lines


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def make_plan(specs: list[RunSpec], records: Iterable[RunRecord]) -> RunPlan:
    records = list(records)
    split = split_current(records)
    current = {r.spec_id: r for r in split.current if r.ok}
    stale_ids = {s.record.spec_id for s in split.stale}
    to_train = [s for s in specs if s.spec_id not in current]
    estimate = _RunTimes(records)
    times = [t for s in to_train if (t := estimate.seconds(s)) is not None]
    return RunPlan(
        total=len(specs), to_train=to_train, reused=[current[s.spec_id] for s in specs if s.spec_id in current],
        replacing_stale=sum(s.spec_id in stale_ids for s in to_train), estimated_seconds=math.fsum(times), estimated_runs=len(times),
    )


class _RunTimes:
    """Mean whole-run seconds of the successful records that trained, by (method, data, protocol, device,
    missing setting), then by (method, dataset)."""

    def __init__(self, records: list[RunRecord]) -> None:
        exact: dict[tuple, list[float]] = defaultdict(list)
        loose: dict[tuple, list[float]] = defaultdict(list)
        for r in records:
            if r.ok and r.cost is not None and r.cost.total_seconds > 0 and not r.weights_from:
                exact[_exact_key(r.spec)].append(r.cost.total_seconds)
                loose[(r.spec.method, r.spec.dataset)].append(r.cost.total_seconds)
        self.exact = {k: math.fsum(v) / len(v) for k, v in exact.items()}
        self.loose = {k: math.fsum(v) / len(v) for k, v in loose.items()}

    def seconds(self, spec: RunSpec) -> float | None:
        return self.exact.get(_exact_key(spec), self.loose.get((spec.method, spec.dataset)))


def _exact_key(spec: RunSpec) -> tuple:
    # the missing setting matters: a run that loses a modality in training often stops far sooner
    setting = spec.missing.setting if spec.missing.active else "plain"
    return (spec.method, spec.dataset, repr(sorted(spec.dataset_options.items())), spec.max_epochs, spec.patience,
            spec.device.split(":")[0], setting)
