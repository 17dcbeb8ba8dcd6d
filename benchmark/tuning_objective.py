"""The tuning objective: mean validation Macro-F1 over the tuning seeds, on a graph without test labels.

A trial trains the method once per tuning seed (``TUNING_SEED_OFFSET + i``, disjoint from
every reported seed) with the reported runs' own loop (:func:`benchmark.run.execute_run`:
same optimiser, early stopping and best-validation-epoch selection) and scores the selected
epoch on validation. The objective is the mean of those scores.

The test split cannot leak into it: the runs see :func:`validation_only`, a copy of the
graph in which every test label is erased (``-1``, unlabelled) and whose split's test part
is the validation part, so even the run's final "test" read evaluates validation nodes.

Every ``REPORT_EVERY`` epochs the trial reports the running estimate of its objective at
step ``seed_index * max_epochs + epoch``: the mean of the finished seeds' scores and the
current seed's best validation Macro-F1 so far (the score early stopping would select now);
when a seed's run ends, the mean of the finished seeds at step ``(seed_index + 1) *
max_epochs``, whatever epoch it stopped at. Every trial reports at the same steps, and the
pruner compares trials there. Not every epoch: each report is a write to the shared storage
and each pruning check a read, which would cost more than a GPU epoch.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any

import optuna

from benchmark.protocol import TUNING_SEED_OFFSET
from benchmark.run import StopRun, execute_run
from benchmark.spec import RunSpec
from benchmark.tuning_settings import StudySettings
from datasets.mmhn import MMHN
from methods.method import METHODS

TUNING_CONFIG_SOURCE = "tuning trial"
REPORT_EVERY = 5  # epochs between intermediate reports


def tuning_seeds(count: int) -> tuple[int, ...]:
    return tuple(TUNING_SEED_OFFSET + i for i in range(count))


def validation_only(mmhn: MMHN, split: str) -> MMHN:
    """The graph as tuning sees it: test labels erased, the split's test part replaced by validation."""
    chosen = mmhn.split(split)
    labels = mmhn.labels.clone()
    labels[chosen.test] = -1
    return dataclasses.replace(mmhn, labels=labels, splits={split: dataclasses.replace(chosen, test=chosen.val)})


class TrialFailed(RuntimeError):
    """A tuning run raised or diverged; the trial counts against the budget as failed."""


class TrialLost(StopRun):
    """The storage says the trial is over (another worker declared it lost); abandon it quietly."""


class _Pruned(StopRun):
    pass


class TrialObjective:
    """``objective(trial) -> mean validation Macro-F1``; raises ``optuna.TrialPruned`` or :class:`TrialFailed`."""

    def __init__(self, settings: StudySettings, device: str, mmhn: MMHN, cache_dir: Path, data_fingerprint: str = "") -> None:
        self.settings = settings
        self.device = device
        self.view = validation_only(mmhn, settings.split)
        self.cache_dir = cache_dir
        self.data_fingerprint = data_fingerprint

    def __call__(self, trial: optuna.Trial) -> float:
        s = self.settings
        method = METHODS.get(s.method)
        overrides = method.search_space(trial)
        try:
            hparams = method.resolved_config(overrides)
        except (TypeError, ValueError) as error:  # a combination the method rejects, e.g. hidden % heads != 0
            raise TrialFailed(f"invalid configuration: {error}") from None
        scores: list[float] = []
        best_epochs: list[int] = []
        for index, seed in enumerate(s.tuning_seeds):
            spec = RunSpec(method=s.method, dataset=s.dataset, split=s.split, seed=seed, hparams=hparams, max_epochs=s.max_epochs,
                           patience=s.patience, device=self.device, dataset_options=s.dataset_options, config_source=TUNING_CONFIG_SOURCE)
            try:
                record = execute_run(spec, self.view, self.cache_dir, self.data_fingerprint, on_epoch=_Reporter(trial, index, scores, s.max_epochs))
            except _Pruned:
                raise optuna.TrialPruned() from None
            if not record.ok or record.metrics is None or record.cost is None:
                raise TrialFailed(f"seed {seed}: {record.error}")
            scores.append(record.metrics.val_macro_f1)
            best_epochs.append(record.cost.best_epoch)
            if index + 1 < len(s.tuning_seeds) and _report(trial, statistics.fmean(scores), (index + 1) * s.max_epochs):
                raise optuna.TrialPruned()
        _set_attrs(trial, {"val_macro_f1_per_seed": scores, "best_epoch_per_seed": best_epochs, "hparams": hparams})
        return statistics.fmean(scores)


class _Reporter:
    """The ``on_epoch`` hook of one tuning run: report the running objective, prune when told."""

    def __init__(self, trial: optuna.Trial, seed_index: int, finished_scores: list[float], max_epochs: int) -> None:
        self.trial = trial
        self.step0 = seed_index * max_epochs
        self.max_epochs = max_epochs
        self.finished = list(finished_scores)
        self.best = float("-inf")

    def __call__(self, epoch: int, val_macro_f1: float) -> None:
        self.best = max(self.best, val_macro_f1)
        if epoch % REPORT_EVERY == 0 and epoch < self.max_epochs:  # the seed's end is reported by the objective
            estimate = (sum(self.finished) + self.best) / (len(self.finished) + 1)
            if _report(self.trial, estimate, self.step0 + epoch):
                raise _Pruned()


def _report(trial: optuna.Trial, value: float, step: int) -> bool:
    """Report an intermediate value; whether the pruner says stop."""
    try:
        trial.report(value, step)
        return trial.should_prune()
    except optuna.exceptions.UpdateFinishedTrialError:
        raise TrialLost() from None


def _set_attrs(trial: optuna.Trial, attrs: dict[str, Any]) -> None:
    try:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
    except optuna.exceptions.UpdateFinishedTrialError:
        raise TrialLost() from None

