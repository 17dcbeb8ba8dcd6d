"""One run: seed, build, train full-batch, select on validation, read test once."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmark.environment import device_name, host_name, package_versions
from benchmark.heap_retention import retained_heap
from benchmark.metrics import f1_scores
from benchmark.number_versions import NumberVersions
from benchmark.peak_memory import PeakMemory
from benchmark.record import RunCost, RunMetrics, RunRecord
from benchmark.seeding import seed_everything
from benchmark.selected_weights import SelectedWeightsCache, TrainingOutcome
from benchmark.spec import RunSpec
from datasets.missing import dataset_key, missing_views
from datasets.mmhn import MMHN
from methods.method import METHODS, MethodConfig, MethodModel, MethodOutput


class NonFiniteLossError(RuntimeError):
    pass


class StopRun(Exception):
    """Raised by an ``on_epoch`` callback to abandon a run (e.g. a pruned tuning trial).

    ``execute_run`` lets it through instead of turning it into a failed record.
    """


# Called after every epoch with (epoch, validation Macro-F1 of that epoch); may raise StopRun.
EpochCallback = Callable[[int, float], None]


@dataclass
class RunTrace:
    """What a run computed along the way, for callers that check numbers (the golden numbers):
    the training loss of every epoch and the logits of the selected model. Filled by
    :func:`execute_run` when given one; records never hold it."""

    losses: list[float] = dataclasses.field(default_factory=list)
    selected_logits: Tensor | None = None


@dataclass
class _Selection:
    """The best validation epoch so far and a copy of its weights."""

    val_macro_f1: float = -1.0
    epoch: int = 0
    seconds: float = 0.0
    state: dict[str, Tensor] | None = None


def execute_run(
    spec: RunSpec, mmhn: MMHN, cache_dir: Path, data_fingerprint: str = "", on_epoch: EpochCallback | None = None,
    store_plain_weights: bool = False, trace: RunTrace | None = None,
) -> RunRecord:
    """Run one spec on an already loaded dataset; never raises for a failing method.

    A method that raises, or whose loss turns NaN/inf, yields a record with status
    ``failed`` and the error text, so a grid goes on. ``KeyboardInterrupt`` propagates.
    ``test_only`` runs share selected weights (:mod:`benchmark.selected_weights`); with
    ``store_plain_weights`` (a sweep that has ``test_only`` points) a plain run stores its
    own, so those points evaluate exactly the r = 0 model.
    """
    started = _now()
    common: dict[str, Any] = {
        "spec": spec,
        "spec_id": spec.spec_id,
        "data_fingerprint": data_fingerprint,
        "versions": package_versions(),
        "started_at": started,
        "number_versions": NumberVersions.stored(spec.method),
        "host": host_name(),
    }
    try:
        split_checksum = mmhn.split(spec.split).checksum
        views = missing_views(mmhn, spec.missing, spec.seed, dataset_key(spec.dataset, spec.dataset_options))
        common.update(mask_checksum=views.mask_checksum, target_missing=views.target_missing)
        # test_only repeats the plain run's training: its runs share the selected weights
        shares = spec.missing.only_at_test or (store_plain_weights and not spec.missing.active)
        weights = SelectedWeightsCache(cache_dir) if shares else None
        # One run at a time trains a plain model; waiting for another is not this run's cost,
        # so the lock is taken outside _train_and_select's timing and memory peak.
        claim = weights.exclusive(spec, data_fingerprint) if weights is not None else contextlib.nullcontext()
        with claim, retained_heap():  # MMHN_RETAIN_HEAP=1: an epoch's large tensors reuse the last epoch's pages
            metrics, cost, diagnostics, reused = _train_and_select(spec, views.train, cache_dir, on_epoch, views.test, weights, data_fingerprint, trace)
    except StopRun:
        raise
    except Exception as error:  # noqa: BLE001 - any method failure becomes a failed record
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        return RunRecord(status="failed", error=last, finished_at=_now(), **common)
    return RunRecord(
        status="ok", metrics=metrics, cost=cost, split_checksum=split_checksum, diagnostics=diagnostics, weights_from=reused,
        finished_at=_now(), **common
    )


def _train_and_select(
    spec: RunSpec, mmhn: MMHN, cache_dir: Path, on_epoch: EpochCallback | None = None, test_mmhn: MMHN | None = None,
    weights: SelectedWeightsCache | None = None, data_fingerprint: str = "", trace: RunTrace | None = None,
) -> tuple[RunMetrics, RunCost, dict[str, Any], str]:
    """Train and select on ``mmhn``; read the test split from ``test_mmhn`` (default: the same graph).

    With ``weights``, a test_only run loads the selected weights stored by an earlier run of
    the same plain spec instead of training; if none are stored, it trains and stores them. A
    plain run given ``weights`` always trains (its record is the leaderboard's) and stores them.
    The caller holds the plain spec's lock (:meth:`SelectedWeightsCache.exclusive`) around it,
    so a concurrent ``test_only`` run of the same plain spec waits and then loads instead of
    training the same model twice.
    The last value returned is the plain spec id whose stored weights were loaded ("" if trained).
    """
    seed_everything(spec.seed)
    method = METHODS.get(spec.method)
    config = method.config(spec.hparams)
    device = spec.device
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        data = mmhn.to(device)
        split = data.split(spec.split)
        model = method.build(data, config, cache_dir).to(device)
        stored = weights.load(spec, data_fingerprint) if weights is not None and spec.missing.only_at_test else None
        if stored is None:
            state, outcome = _train(spec, config, model, data, split.train, split.val, on_epoch, trace)
        else:
            state, outcome = stored.state, stored.outcome
        model.load_state_dict(state)
        # The only place the test split is read: once, with the selected weights.
        model.eval()
        with torch.no_grad():
            output = model(data)
            test_logits = output.logits if test_mmhn is None or test_mmhn is mmhn else model(test_mmhn.to(device)).logits
        if trace is not None:
            trace.selected_logits = output.logits.detach().cpu()
        labels = data.labels
        predictions = output.logits.argmax(dim=-1)
        test_predictions = test_logits.argmax(dim=-1)
        scores = {part: f1_scores(labels[index], predictions[index], data.num_classes) for part, index in
                  (("train", split.train), ("val", split.val))}
        scores["test"] = f1_scores(labels[split.test], test_predictions[split.test], data.num_classes)
        total = time.perf_counter() - start
    if stored is None:
        outcome = dataclasses.replace(outcome, peak_memory_mb=memory.megabytes)
        if weights is not None:
            weights.save(spec, data_fingerprint, state, outcome)
    metrics = RunMetrics(
        test_macro_f1=scores["test"].macro,
        test_micro_f1=scores["test"].micro,
        val_macro_f1=scores["val"].macro,
        val_micro_f1=scores["val"].micro,
        train_macro_f1=scores["train"].macro,
    )
    # A run that loaded its weights reports the cost of the training that produced them
    # (what the result cost), except its own wall time.
    cost = RunCost(
        num_parameters=sum(p.numel() for p in model.parameters()),
        epochs_run=outcome.epochs_run,
        best_epoch=outcome.best_epoch,
        seconds_per_epoch=outcome.seconds_per_epoch,
        seconds_to_best=outcome.seconds_to_best,
        total_seconds=total,
        peak_memory_mb=outcome.peak_memory_mb,
        device_name=device_name(device),
    )
    return metrics, cost, _small_diagnostics(output.diagnostics), "" if stored is None else stored.plain_spec_id


def _train(
    spec: RunSpec, config: MethodConfig, model: MethodModel, data: MMHN, train: Tensor, val: Tensor, on_epoch: EpochCallback | None,
    trace: RunTrace | None = None,
) -> tuple[dict[str, Tensor], TrainingOutcome]:
    """Full-batch training with early stopping on validation Macro-F1; the best epoch's weights."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimizer, config, spec.max_epochs)
    warmup = warmup_epochs(config, spec.max_epochs)
    labels = data.labels
    best = _Selection()
    step_seconds: list[float] = []
    epochs_run = 0
    for epoch in range(1, spec.max_epochs + 1):
        epochs_run = epoch
        seconds, loss = _train_step(model, data, labels, train, optimizer, scheduler, spec.device, epoch)
        step_seconds.append(seconds)
        if trace is not None:
            trace.losses.append(float(loss))  # a host sync, only when a caller asks for the trace
        val_f1 = f1_scores(labels[val], _predict(model, data)[val], data.num_classes).macro
        if on_epoch is not None:
            on_epoch(epoch, val_f1)
        if val_f1 > best.val_macro_f1:  # strictly better: ties keep the earlier epoch
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best = _Selection(val_macro_f1=val_f1, epoch=epoch, seconds=sum(step_seconds), state=state)
        elif epoch - max(best.epoch, warmup) >= spec.patience:  # patience counts from the lr peak
            break
    assert best.state is not None
    outcome = TrainingOutcome(epochs_run=epochs_run, best_epoch=best.epoch, seconds_per_epoch=sum(step_seconds) / len(step_seconds),
                              seconds_to_best=best.seconds, peak_memory_mb=0.0)
    return best.state, outcome


def _train_step(
    model: MethodModel, data: MMHN, labels: Tensor, train: Tensor, optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None, device: str, epoch: int,
) -> tuple[float, Tensor]:
    """One optimiser step: its wall time, and the training loss it stepped on (on the device)."""
    start = time.perf_counter()
    model.train()
    optimizer.zero_grad(set_to_none=True)
    output = model(data)
    loss = training_loss(output, labels, train)
    if not bool(torch.isfinite(loss)):
        raise NonFiniteLossError(f"training loss is {float(loss)} at epoch {epoch}")
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return seconds, loss.detach()


def training_loss(output: MethodOutput, labels: Tensor, train: Tensor) -> Tensor:
    """Cross-entropy on the train nodes + the model's auxiliary loss + weighted cross-entropy
    of any auxiliary logits (on the train nodes their mask keeps)."""
    loss = F.cross_entropy(output.logits[train], labels[train])
    if output.aux_loss is not None:
        loss = loss + output.aux_loss
    for extra in output.aux_logits:
        rows = train if extra.mask is None else train[extra.mask[train]]
        if rows.numel() and extra.weight:
            loss = loss + extra.weight * F.cross_entropy(extra.logits[rows], labels[rows])
    return loss


def _predict(model: MethodModel, data: MMHN) -> Tensor:
    model.eval()
    with torch.no_grad():
        return model(data).logits.argmax(dim=-1)


ONE_CYCLE_WARMUP = 0.3  # OneCycleLR's pct_start: the share of the epochs spent raising the lr


def warmup_epochs(config: MethodConfig, max_epochs: int) -> int:
    """The end of the lr warm-up: early stopping counts its patience from here at the earliest.

    One-cycle starts at max_lr / 25 and peaks after 30 % of the epochs; a slow starter can show
    no validation gain for ``patience`` epochs of that ramp (seen: ``late_fusion_hgt`` stopped
    at epoch 31 of 200 predicting one class on synthetic; ``early_fusion_hgt`` likewise at
    epoch 21 of 50 on 4 of 10 imdb_mm seeds), so a run sees ``patience`` epochs at full lr.
    """
    return int(ONE_CYCLE_WARMUP * max_epochs) if config.scheduler == "one_cycle" else 0


def _scheduler(optimizer: torch.optim.Optimizer, config: MethodConfig, max_epochs: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    if config.scheduler == "one_cycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max_epochs, pct_start=ONE_CYCLE_WARMUP)
    return None


def _small_diagnostics(diagnostics: dict[str, Tensor]) -> dict[str, Any]:
    """Keep diagnostics that fit in a record (e.g. attention means), drop per-edge tensors."""
    return {k: v.detach().cpu().tolist() for k, v in diagnostics.items() if v.numel() <= 4096}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
