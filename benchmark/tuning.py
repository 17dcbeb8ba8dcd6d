"""Tuning studies: what makes trials comparable, and the worker loop that fills a study's budget.

One study per (method, dataset). Any number of workers (processes here, processes on other
hosts) join a study by name in a shared storage and each runs :func:`run_worker`, which asks
Optuna for a trial, evaluates it (:mod:`benchmark.tuning_objective`) and tells the result,
until the study holds ``n_trials`` finished trials or the timeout has passed.

Budget accounting (equal budgets across methods is the point): a trial that completed, was
pruned, or failed in the method (it raised or diverged) uses one unit of the budget. A trial
whose worker died (heartbeat lost), was interrupted, or was asked for after the budget was
already full ("surplus", two workers asking at the same moment) uses none; a lost trial is
re-queued with its parameters, so it is evaluated once, not twice. Before asking, a worker
counts finished plus running plus queued trials; when that reaches the budget it waits for
the running ones (one may still be lost and re-queued) instead of starting another.

Sampling: TPE, re-seeded for every trial from ``(sampler_seed, trial number)``. A sequential
study is therefore reproducible, and parallel workers never draw from one random stream.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import optuna
from optuna.storages import BaseStorage, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from benchmark.tuning_objective import TrialFailed, TrialLost
from benchmark.tuning_settings import StudySettings
from benchmark.tuning_storage import StorageLocation, quiet_optuna

PRUNERS = ("median", "hyperband", "none")
SETTINGS_ATTR = "mmhn_study_settings"
ERROR_ATTR = "error"  # a failure of the method: counts against the budget
SURPLUS_ATTR = "surplus"  # asked for after the budget was full: never run, not counted
INTERRUPTED_ATTR = "interrupted"  # stopped by the user: not counted
WORKER_ATTR = "worker"  # host:pid of the process that ran the trial
POLL_S = 0.5

optuna.logging.set_verbosity(optuna.logging.WARNING)  # progress is our one line, not a log line per trial


class StudyMismatchError(ValueError):
    """A study of that name exists with other settings; the message suggests a new name."""


@dataclass(frozen=True)
class TuningJob:
    """One study's work order; JSON-serialisable so worker processes receive it whole."""

    settings: StudySettings
    study_name: str
    storage: StorageLocation
    n_trials: int | None
    timeout_s: float | None
    heartbeat_s: int
    device: str
    protocol: str  # the preset the limits came from (for the record)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["settings"] = self.settings.to_json()
        return json.loads(json.dumps(data))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TuningJob:
        values = dict(data)
        values["settings"] = StudySettings.from_json(data["settings"])
        values["storage"] = StorageLocation(**data["storage"])
        return cls(**values)


def file_stem(study_name: str) -> str:
    """A study name made safe as the start of a file name (figures, worker logs)."""
    return re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", study_name)


def make_sampler(sampler_seed: int, trial_number: int) -> optuna.samplers.TPESampler:
    seed = int(np.random.SeedSequence([sampler_seed, trial_number]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def make_pruner(settings: StudySettings) -> optuna.pruners.BasePruner:
    warmup = min(settings.patience, settings.max_epochs)  # a run would not stop before this either
    if settings.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if settings.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=warmup, max_resource=len(settings.tuning_seeds) * settings.max_epochs,
                                              reduction_factor=3)
    return optuna.pruners.NopPruner()


def stored_settings(storage: BaseStorage, study_name: str, wait_s: float = 10.0) -> StudySettings | None:
    """The settings of an existing study, ``None`` if there is no such study.

    A study another worker has just created may not carry its settings yet: wait briefly.
    """
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return None
    deadline = time.monotonic() + wait_s
    while True:
        attrs = storage.get_study_user_attrs(study_id)
        if SETTINGS_ATTR in attrs:
            return StudySettings.from_json(attrs[SETTINGS_ATTR])
        if time.monotonic() >= deadline:
            raise StudyMismatchError(f"study {study_name!r} exists in the storage but was not created by mmhn-bench "
                                     f"(no {SETTINGS_ATTR}); choose another --study-name")
        time.sleep(0.2)


def check_compatible(storage: BaseStorage, study_name: str, settings: StudySettings, location: StorageLocation) -> None:
    existing = stored_settings(storage, study_name)
    if existing is None:
        return
    differences = settings.differences(existing)
    if differences:
        raise StudyMismatchError(
            f"study {study_name!r} in {location.display()} was created with another {'; '.join(differences)}; "
            f"its trials are not comparable with this run: choose a new --study-name (e.g. {study_name}-2)"
        )


def open_study(job: TuningJob, storage: BaseStorage) -> optuna.Study:
    """Create the study, or join it after checking that its settings are these."""
    sampler, pruner = make_sampler(job.settings.sampler_seed, 0), make_pruner(job.settings)
    try:
        study = optuna.create_study(storage=storage, study_name=job.study_name, direction="maximize", sampler=sampler, pruner=pruner)
        study.set_user_attr(SETTINGS_ATTR, job.settings.to_json())
        return study
    except optuna.exceptions.DuplicatedStudyError:
        pass
    check_compatible(storage, job.study_name, job.settings, job.storage)
    study = optuna.load_study(study_name=job.study_name, storage=storage, sampler=sampler, pruner=pruner)
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise StudyMismatchError(f"study {job.study_name!r} minimises; choose a new --study-name")
    return study


@dataclass(frozen=True)
class Tally:
    """A study's trials by what they mean for the budget."""

    complete: int = 0
    pruned: int = 0
    failed: int = 0  # the method raised or diverged: counted
    lost: int = 0  # worker killed or interrupted: not counted (re-queued)
    surplus: int = 0  # asked for after the budget was full: not counted, never run
    running: int = 0
    waiting: int = 0  # queued (a lost trial's retry)
    best_value: float | None = None
    best_number: int | None = None

    @property
    def finished(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def counted(self) -> int:
        return self.finished + self.running + self.waiting

    @classmethod
    def of(cls, trials: list[FrozenTrial]) -> Tally:
        counts = {k: 0 for k in ("complete", "pruned", "failed", "lost", "surplus", "running", "waiting")}
        best: FrozenTrial | None = None
        for t in trials:
            counts[_budget_class(t)] += 1
            if t.state == TrialState.COMPLETE and t.value is not None and (best is None or t.value > best.value):  # type: ignore[operator]
                best = t  # strictly greater: ties keep the earlier trial
        return cls(**counts, best_value=None if best is None else best.value, best_number=None if best is None else best.number)


def _budget_class(trial: FrozenTrial) -> str:
    if trial.state == TrialState.FAIL:
        if SURPLUS_ATTR in trial.user_attrs:
            return "surplus"
        return "failed" if ERROR_ATTR in trial.user_attrs else "lost"
    return {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}[trial.state]


def best_trial(trials: list[FrozenTrial]) -> FrozenTrial | None:
    number = Tally.of(trials).best_number
    return next((t for t in trials if t.number == number), None)


class _Heartbeat:
    """Records a running trial's heartbeat every interval in a thread, so a dead worker is noticed."""

    def __init__(self, storage: BaseStorage, trial_id: int, interval_s: int) -> None:
        self.storage, self.trial_id, self.interval_s = storage, trial_id, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.storage.record_heartbeat(self.trial_id)  # type: ignore[attr-defined]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.storage.record_heartbeat(self.trial_id)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - the trial was finished elsewhere, or a transient error: the next beat retries
                pass


Objective = Callable[[optuna.Trial], float]


def run_worker(job: TuningJob, storage: BaseStorage, objective: Objective, on_progress: Callable[[Tally], None] | None = None) -> Tally:
    """Evaluate trials of the job's study until its budget is full or the timeout has passed."""
    with quiet_optuna():
        return _run_worker(job, storage, objective, on_progress)


def _run_worker(job: TuningJob, storage: BaseStorage, objective: Objective, on_progress: Callable[[Tally], None] | None) -> Tally:
    start = time.monotonic()  # the timeout counts from the call, joining the study included
    study = open_study(job, storage)
    identity = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        fail_stale_trials(study)  # a dead worker's trial -> failed and re-queued
        tally = Tally.of(study.get_trials(deepcopy=False))
        if on_progress is not None:
            on_progress(tally)
        if job.timeout_s is not None and time.monotonic() - start >= job.timeout_s:
            return tally
        if job.n_trials is not None:
            if tally.finished >= job.n_trials:
                return tally
            if tally.counted >= job.n_trials and tally.waiting == 0:
                time.sleep(POLL_S)  # the last trials run elsewhere; wait in case one is lost and re-queued
                continue
        trial = study.ask()
        if on_progress is not None:
            on_progress(dataclasses.replace(tally, running=tally.running + 1))
        study.sampler = make_sampler(job.settings.sampler_seed, trial.number)
        if job.n_trials is not None and _counted_before(study, trial.number) >= job.n_trials:
            _finish(study, trial, TrialState.FAIL, attrs={SURPLUS_ATTR: True})
            continue
        _evaluate(study, trial, storage, objective, job.heartbeat_s, identity)


def _counted_before(study: optuna.Study, number: int) -> int:
    return sum(1 for t in study.get_trials(deepcopy=False) if t.number < number and _budget_class(t) not in ("lost", "surplus"))


def _evaluate(study: optuna.Study, trial: optuna.Trial, storage: BaseStorage, objective: Objective, heartbeat_s: int, identity: str) -> None:
    try:
        with _Heartbeat(storage, trial._trial_id, heartbeat_s):  # first beat at once: a kill from here on is noticed
            trial.set_user_attr(WORKER_ATTR, identity)
            value = objective(trial)
    except optuna.TrialPruned:
        _finish(study, trial, TrialState.PRUNED)
    except (TrialLost, optuna.exceptions.UpdateFinishedTrialError):
        pass  # another worker declared this trial lost and re-queued it
    except KeyboardInterrupt:
        _finish(study, trial, TrialState.FAIL, attrs={INTERRUPTED_ATTR: True})
        raise
    except Exception as error:  # noqa: BLE001 - TrialFailed, or any error of the method: a failed trial, the study goes on
        text = str(error) if isinstance(error, TrialFailed) else f"{type(error).__name__}: {error}"
        _finish(study, trial, TrialState.FAIL, attrs={ERROR_ATTR: text})
    else:
        _finish(study, trial, TrialState.COMPLETE, value=value)


def _finish(study: optuna.Study, trial: optuna.Trial, state: TrialState, value: float | None = None,
            attrs: dict[str, Any] | None = None) -> None:
    try:
        for key, attr in (attrs or {}).items():
            trial.set_user_attr(key, attr)
        study.tell(trial, value, state=state if value is None else None)
    except optuna.exceptions.UpdateFinishedTrialError:
        pass  # declared lost meanwhile; its retry carries the parameters
