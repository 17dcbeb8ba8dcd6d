"""Selected weights shared by the ``test_only`` runs of one plain run.

A ``test_only`` run trains and selects on the complete graph, exactly as the plain run with
the same spec does, and only its single test evaluation sees the dropped modality
(:mod:`datasets.missing`). Every ``test_only`` point of a curve, at any rate and for any
modality, is meant to evaluate the same model: the one that training selects. Retraining it
for each point mostly repeats it exactly (on imdb_mm 188 of 192 ``test_only`` runs repeated
their plain run's selected epoch and validation Macro-F1; the other 4, one (method, seed),
did not, since CPU training is not always bit-reproducible). So the model is trained once and
stored here. In a sweep with ``test_only`` points the plain run stores its selected weights
(``DataContext.store_plain_weights``) and every ``test_only`` point loads them and only
evaluates: the whole curve, r = 0 included, is one model exactly, and about half of a full
sweep's training goes. A ``test_only`` run that finds nothing stored (its plain run finished
before weights were stored, or ran elsewhere) trains, stores, and the later points load
those; then, as in the 4 cases above, its model can differ slightly from the r = 0 one.

Only one run at a time may train the model of one plain spec (:meth:`SelectedWeightsCache.exclusive`,
a file lock beside the weights): a ``test_only`` run that starts while another run of the
same plain spec trains waits for it and loads what it stored. Without it, two workers that
picked up two points of one curve at once both trained (8 of 192 ``test_only`` runs of the
imdb_mm sweep's seeds 4-7).

Weights are stored under the plain run's spec id, in the cache folder (never in results/),
together with the training outcome the record needs. They are used only when everything
that could change them matches: the spec (through its id), the dataset's fingerprint, the
suite's code version and the PyTorch version. A checkout with uncommitted changes to code
(``+dirty``) neither stores nor loads weights, since its code version does not pin the code.
Deleting the folder makes every ``test_only`` run train again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from benchmark.environment import code_version
from benchmark.spec import RunSpec
from datasets.missing import MissingSetting

FOLDER = "selected-weights"


@dataclass(frozen=True)
class TrainingOutcome:
    """What training produced besides the weights, as the record's cost reports it."""

    epochs_run: int
    best_epoch: int
    seconds_per_epoch: float
    seconds_to_best: float
    peak_memory_mb: float


@dataclass(frozen=True)
class SelectedWeights:
    state: dict[str, Tensor]
    outcome: TrainingOutcome
    plain_spec_id: str


def plain_spec(spec: RunSpec) -> RunSpec:
    """The run whose training a ``test_only`` spec repeats: the same spec without the missing setting."""
    return dataclasses.replace(spec, missing=MissingSetting())


class SelectedWeightsCache:
    def __init__(self, cache_dir: Path) -> None:
        self.folder = Path(cache_dir) / FOLDER

    def path(self, spec: RunSpec) -> Path:
        return self.folder / f"{plain_spec(spec).spec_id}.pt"

    @contextlib.contextmanager
    def exclusive(self, spec: RunSpec, data_fingerprint: str) -> Iterator[None]:
        """Held from looking up ``spec``'s plain weights until storing them, so one run trains them.

        An advisory lock (``flock``) on a file per plain spec id, in a folder beside the
        weights' (the weights folder holds nothing but weights). It works between processes
        and threads of one machine; workers on other machines have their own cache folder.
        Where nothing would be stored (:func:`_key` is None) it holds nothing, so such runs
        stay parallel.
        """
        if _key(spec, data_fingerprint) is None:
            yield
            return
        locks = self.folder.with_name(FOLDER + ".locks")
        locks.mkdir(parents=True, exist_ok=True)
        # The lock file is never deleted: unlinking it while another process waits on it
        # would let a third lock a new file of the same name.
        with open(locks / f"{plain_spec(spec).spec_id}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self, spec: RunSpec, data_fingerprint: str) -> SelectedWeights | None:
        """The stored weights for ``spec``'s plain run, or None if absent, unreadable or stale."""
        key = _key(spec, data_fingerprint)
        path = self.path(spec)
        if key is None or not path.exists():
            return None
        try:
            stored = torch.load(path, map_location=spec.device, weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):  # a torn file is a miss; it is overwritten
            return None
        if stored.get("key") != key:
            return None
        return SelectedWeights(stored["state"], TrainingOutcome(**stored["outcome"]), plain_spec(spec).spec_id)

    def save(self, spec: RunSpec, data_fingerprint: str, state: dict[str, Tensor], outcome: TrainingOutcome) -> None:
        """Store atomically (write, then rename), so a concurrent reader sees all or nothing."""
        key = _key(spec, data_fingerprint)
        if key is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = {"key": key, "state": {k: v.detach().cpu() for k, v in state.items()}, "outcome": dataclasses.asdict(outcome)}
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".partial")
        os.close(handle)
        try:
            torch.save(payload, temporary)
            os.replace(temporary, self.path(spec))
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def _key(spec: RunSpec, data_fingerprint: str) -> dict[str, str] | None:
    code = code_version()
    if not data_fingerprint or code == "unknown" or code.endswith("+dirty"):
        return None
    return {"plain_spec_id": plain_spec(spec).spec_id, "data": data_fingerprint, "code": code, "torch": str(torch.__version__)}
