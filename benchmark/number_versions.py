"""Versions of the code that decides a run's numbers, and whether a record is still current.

A git commit says which code ran, but not whether the code in the checkout would give the
same numbers: most commits change no number, a few change many. So the code that decides
numbers declares integer versions, and every record stores the ones it was made with:

* ``method``: the ``version`` of the run's method class (``methods/``), next to its config;
* ``harness``: :data:`HARNESS_VERSION`, for what every run shares and that decides numbers:
  the training loop, optimiser and schedule, early stopping and selection
  (``benchmark/run.py``), seeding (``benchmark/seeding.py``), the metrics
  (``benchmark/metrics.py``), the missing-modality masks (``datasets/missing.py``) and the
  input conditioning of the data.

A record is *current* when both equal the code's. Resume reuses current records only,
``--report`` builds its tables from current records only and lists the others as stale,
and ``--verify`` says whether a current record still comes out of this code here.

A refactor that moves no number keeps every version (and so every record); a change that
moves any number bumps the version that owns it. The golden numbers
(``tests/golden_numbers.json``, :mod:`benchmark.golden_numbers`) fail until it does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from benchmark.record import RunRecord
from methods.method import METHODS

HARNESS_VERSION = 1


@dataclass(frozen=True)
class NumberVersions:
    method: int
    harness: int

    @classmethod
    def current(cls, method: str) -> NumberVersions:
        """The versions this checkout's code would give a run of ``method``."""
        return cls(method=METHODS.get(method).version, harness=HARNESS_VERSION)

    @classmethod
    def stored(cls, method: str) -> dict[str, int]:
        """What a record of ``method`` made here stores: its current versions, or nothing for a
        method this process does not know (one registered only inside worker processes)."""
        return cls.current(method).to_json() if method in METHODS else {}

    @classmethod
    def parse(cls, raw: Any) -> NumberVersions:
        """A record's stored versions; ``ValueError`` naming what is wrong with them."""
        if not isinstance(raw, dict) or not raw:
            raise ValueError("no versions recorded (made before versions existed)" if not raw else f"versions field {raw!r} is not an object")
        values = {}
        for key in ("method", "harness"):
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"versions field {raw!r} has no positive integer {key!r}")
            values[key] = value
        return cls(**values)

    def to_json(self) -> dict[str, int]:
        return {"harness": self.harness, "method": self.method}

    def text(self, method: str) -> str:
        return f"{method} v{self.method}, harness v{self.harness}"


def staleness(record: RunRecord) -> str | None:
    """Why ``record`` does not describe this checkout's code; ``None`` when it is current."""
    try:
        made = NumberVersions.parse(record.number_versions)
    except ValueError as error:
        return str(error)
    if record.spec.method not in METHODS:
        return f"method {record.spec.method!r} is no longer registered"
    now = NumberVersions.current(record.spec.method)
    if made == now:
        return None
    changed = []
    if made.method != now.method:
        changed.append(f"{record.spec.method} v{made.method}, the code is at v{now.method}")
    if made.harness != now.harness:
        changed.append(f"harness v{made.harness}, the code is at v{now.harness}")
    return "made with " + "; ".join(changed)


@dataclass(frozen=True)
class StaleRecord:
    record: RunRecord
    reason: str


@dataclass(frozen=True)
class CurrentRecords:
    """The records of a results folder, split into those of this code's versions and the rest."""

    current: list[RunRecord]  # the last current record of every spec id that has one
    stale: list[StaleRecord]  # the last record of every other spec id, with the reason

    def finished_ids(self) -> set[str]:
        """Spec ids that resume may skip: a successful record of the current versions."""
        return {r.spec_id for r in self.current if r.ok}


def split_current(records: Iterable[RunRecord]) -> CurrentRecords:
    """Each spec id's last current record; spec ids without one keep their last record as stale.

    A current record is never hidden by a later stale one (say, from a branch that ran at
    another version), and a stale record never enters a table once its spec ran again.
    """
    current: dict[str, RunRecord] = {}
    stale: dict[str, StaleRecord] = {}
    for record in records:
        reason = staleness(record)
        if reason is None:
            current[record.spec_id] = record
        else:
            stale[record.spec_id] = StaleRecord(record, reason)
    return CurrentRecords(list(current.values()), [s for spec_id, s in stale.items() if spec_id not in current])


def stale_groups(stale: Iterable[StaleRecord], key: Callable[[RunRecord], tuple[str, ...]] = lambda r: ()) -> dict[tuple[str, ...], list[StaleRecord]]:
    """Stale records by (dataset, method, reason, *key(record)), in sorted order: what the report lists."""
    groups: dict[tuple[str, ...], list[StaleRecord]] = defaultdict(list)
    for s in stale:
        groups[(s.record.spec.dataset, s.record.spec.method, s.reason, *key(s.record))].append(s)
    return {k: groups[k] for k in sorted(groups)}
