"""Golden numbers: a few epochs of every method on a tiny seeded graph, stored in the repository.

They guard the versions of :mod:`benchmark.number_versions`: a change to a method or to the
harness that moves any of these numbers must bump a version in the same commit, or the test
``tests/test_golden_numbers.py`` fails. For each registered method the harness trains
:data:`GOLDEN_EPOCHS` epochs (no early stop) on the synthetic graph at :data:`GOLDEN_OPTIONS`,
seed 0, on the CPU, and keeps

* the training loss of every epoch,
* a checksum of the selected model's logits (sum, sum of absolute values, and a sum weighted
  by position, so a permutation of the same values shows too),
* the selected epoch and the train, validation and test Macro-F1 it gives.

Losses and checksums are compared with a relative tolerance of :data:`RELATIVE_TOLERANCE`
(the same code on another CPU or BLAS build may sum in another order); epochs and scores,
which come from argmaxes on a few dozen nodes, must be equal.

``python -m benchmark.scripts.golden_numbers --update`` measures them again, says which
methods moved, and stores them, refusing a method whose numbers moved while its versions
stayed the same.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from benchmark.cpu_threads import torch_threads
from benchmark.number_versions import NumberVersions
from benchmark.run import RunTrace, execute_run
from benchmark.spec import RunSpec
from datasets.loading import get_adapter, load_dataset
from datasets.adapter import DataContext
from methods.method import METHODS

GOLDEN_FILE = Path(__file__).resolve().parent.parent / "tests" / "golden_numbers.json"
GOLDEN_DATASET = "synthetic"
GOLDEN_OPTIONS: dict[str, Any] = {"scale": 0.1}  # 100 items, 15 creators, 30 keywords
GOLDEN_EPOCHS = 4
RELATIVE_TOLERANCE = 1e-4
UPDATE_COMMAND = "python -m benchmark.scripts.golden_numbers --update"


@dataclass(frozen=True)
class GoldenNumbers:
    versions: dict[str, int]  # NumberVersions.to_json() of the code that made them
    graph: str  # fingerprint of the golden graph: if it moved, the data changed, not the method
    losses: list[float]
    logits_checksum: list[float]  # sum, sum of |x|, position-weighted sum
    best_epoch: int
    train_macro_f1: float
    val_macro_f1: float
    test_macro_f1: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GoldenNumbers:
        return cls(**data)


def golden_spec(method: str) -> RunSpec:
    return RunSpec(method=method, dataset=GOLDEN_DATASET, split=get_adapter(GOLDEN_DATASET).default_split, seed=0,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=GOLDEN_EPOCHS, patience=GOLDEN_EPOCHS,
                   dataset_options=get_adapter(GOLDEN_DATASET).normalized_options(GOLDEN_OPTIONS))


def logits_checksum(logits: torch.Tensor) -> list[float]:
    flat = logits.detach().double().flatten()
    weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64) / flat.numel()
    return [float(flat.sum()), float(flat.abs().sum()), float((flat * weights).sum())]


def measure(method: str) -> GoldenNumbers:
    """Train ``method`` on the golden graph, one CPU thread, in a scratch cache folder."""
    spec = golden_spec(method)
    with tempfile.TemporaryDirectory(prefix="mmhn-golden-") as cache, torch_threads(1):
        mmhn = load_dataset(GOLDEN_DATASET, DataContext(None, Path(cache), progress=False), spec.dataset_options)
        trace = RunTrace()
        record = execute_run(spec, mmhn, Path(cache), mmhn.fingerprint(), trace=trace)
    if not record.ok or record.metrics is None or record.cost is None or trace.selected_logits is None:
        raise RuntimeError(f"golden run of {method} failed: {record.error}")
    return GoldenNumbers(
        versions=NumberVersions.current(method).to_json(), graph=record.data_fingerprint, losses=trace.losses,
        logits_checksum=logits_checksum(trace.selected_logits), best_epoch=record.cost.best_epoch,
        train_macro_f1=record.metrics.train_macro_f1, val_macro_f1=record.metrics.val_macro_f1, test_macro_f1=record.metrics.test_macro_f1,
    )


def moved(stored: GoldenNumbers, now: GoldenNumbers) -> list[str]:
    """The numbers that differ beyond the stated tolerances (empty: the same numbers)."""
    out = []
    if stored.graph != now.graph:
        out.append(f"the golden graph changed (fingerprint {stored.graph} -> {now.graph})")
    if len(stored.losses) != len(now.losses) or not all(_close(a, b) for a, b in zip(stored.losses, now.losses)):
        out.append(f"losses {_short(stored.losses)} -> {_short(now.losses)}")
    if not all(_close(a, b) for a, b in zip(stored.logits_checksum, now.logits_checksum)):
        out.append(f"logits checksum {_short(stored.logits_checksum)} -> {_short(now.logits_checksum)}")
    for name in ("best_epoch", "train_macro_f1", "val_macro_f1", "test_macro_f1"):
        if getattr(stored, name) != getattr(now, name):
            out.append(f"{name} {getattr(stored, name)} -> {getattr(now, name)}")
    return out


def problems(method: str, stored: GoldenNumbers | None, now: GoldenNumbers) -> list[str]:
    """Why the stored golden numbers of ``method`` do not hold for this code (empty: they hold)."""
    if stored is None:
        return [f"{method}: no golden numbers stored; run `{UPDATE_COMMAND}`"]
    changes = moved(stored, now)
    if stored.versions == now.versions:
        if changes:
            return [f"{method}: numbers moved without a version bump ({'; '.join(changes)}). Bump `version` of the method's class "
                    f"(or HARNESS_VERSION in benchmark/number_versions.py if the shared harness moved them), then run `{UPDATE_COMMAND}`"]
        return []
    return [f"{method}: versions {stored.versions} stored, the code is at {now.versions}; run `{UPDATE_COMMAND}` to store its numbers"]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)


def _short(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def load_golden(path: Path = GOLDEN_FILE) -> dict[str, GoldenNumbers]:
    if not path.exists():
        return {}
    return {name: GoldenNumbers.from_json(entry) for name, entry in json.loads(path.read_text()).items()}


def save_golden(numbers: dict[str, GoldenNumbers], path: Path = GOLDEN_FILE) -> None:
    data = {name: asdict(numbers[name]) for name in sorted(numbers)}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


@dataclass(frozen=True)
class UpdateOutcome:
    written: dict[str, GoldenNumbers]  # what the golden file holds afterwards
    report: list[str]  # one line per method: unchanged / moved (with what) / new / refused
    refused: list[str]  # methods whose numbers moved without a version bump (their old entry kept)


def update(stored: dict[str, GoldenNumbers], measured: dict[str, GoldenNumbers]) -> UpdateOutcome:
    """The golden file after measuring ``measured``: entries of unregistered methods dropped,
    a method that moved without a bump refused (kept as it was), every other one stored."""
    written: dict[str, GoldenNumbers] = {}
    report, refused = [], []
    for name, now in sorted(measured.items()):
        old = stored.get(name)
        if old is None:
            written[name] = now
            report.append(f"{name}: new")
            continue
        changes = moved(old, now)
        if changes and old.versions == now.versions:
            written[name] = old
            refused.append(name)
            report.append(f"{name}: REFUSED, moved without a version bump ({'; '.join(changes)})")
            continue
        written[name] = now
        if changes:
            report.append(f"{name}: moved, versions {old.versions} -> {now.versions} ({'; '.join(changes)})")
        elif old.versions != now.versions:
            report.append(f"{name}: same numbers, versions {old.versions} -> {now.versions}")
        else:
            report.append(f"{name}: unchanged")
    for name in sorted(set(stored) - set(measured)):
        report.append(f"{name}: removed (no longer registered)")
    return UpdateOutcome(written, report, refused)
