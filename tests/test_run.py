"""One run: deterministic on CPU, selected on validation only, failures recorded not raised."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.mmhn import MMHN
from methods.method import METHODS, Method, MethodConfig, MethodModel, MethodOutput


def spec(method: str, seed: int = 0, max_epochs: int = 15) -> RunSpec:
    return RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=seed,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=max_epochs, patience=5)


@pytest.mark.parametrize("method", ["mlp", "early_fusion_hgt"])
def test_same_spec_gives_the_same_metrics_twice(small_mmhn: MMHN, tmp_path: Path, method: str) -> None:
    first = execute_run(spec(method), small_mmhn, tmp_path)
    second = execute_run(spec(method), small_mmhn, tmp_path)
    assert first.ok and second.ok
    assert first.metrics == second.metrics
    assert first.cost.best_epoch == second.cost.best_epoch  # type: ignore[union-attr]


def test_another_seed_gives_another_run(small_mmhn: MMHN, tmp_path: Path) -> None:
    a = execute_run(spec("early_fusion_hgt", seed=0), small_mmhn, tmp_path)
    b = execute_run(spec("early_fusion_hgt", seed=1), small_mmhn, tmp_path)
    assert a.metrics != b.metrics


def test_record_has_costs_versions_and_checksums(small_mmhn: MMHN, tmp_path: Path) -> None:
    record = execute_run(spec("mlp"), small_mmhn, tmp_path, data_fingerprint="abc")
    assert record.ok and record.spec_id == spec("mlp").spec_id
    cost = record.cost
    assert cost is not None
    assert cost.num_parameters == sum(p.numel() for p in METHODS.get("mlp").build(small_mmhn, METHODS.get("mlp").config(), tmp_path).parameters())
    assert 1 <= cost.best_epoch <= cost.epochs_run <= 15
    assert cost.seconds_per_epoch > 0 and cost.total_seconds >= cost.seconds_to_best
    assert record.split_checksum == small_mmhn.splits["random_20_10_70"].checksum
    assert record.data_fingerprint == "abc"
    assert {"torch", "torch-geometric", "python", "code"} <= set(record.versions)


def test_test_labels_influence_nothing_but_the_test_scores(small_mmhn: MMHN, tmp_path: Path) -> None:
    """Poison every test label: training, selection and validation scores do not move."""
    split = small_mmhn.splits["random_20_10_70"]
    poisoned_labels = small_mmhn.labels.clone()
    poisoned_labels[split.test] = (poisoned_labels[split.test] + 1) % small_mmhn.num_classes
    poisoned = dataclasses.replace(small_mmhn, labels=poisoned_labels)
    clean = execute_run(spec("early_fusion_hgt"), small_mmhn, tmp_path)
    dirty = execute_run(spec("early_fusion_hgt"), poisoned, tmp_path)
    assert clean.cost.best_epoch == dirty.cost.best_epoch  # type: ignore[union-attr]
    assert clean.metrics.val_macro_f1 == dirty.metrics.val_macro_f1  # type: ignore[union-attr]
    assert clean.metrics.train_macro_f1 == dirty.metrics.train_macro_f1  # type: ignore[union-attr]
    assert clean.metrics.test_macro_f1 != dirty.metrics.test_macro_f1  # type: ignore[union-attr]


def test_best_validation_epoch_is_selected_and_patience_stops(small_mmhn: MMHN, tmp_path: Path) -> None:
    record = execute_run(dataclasses.replace(spec("mlp", max_epochs=300), patience=3), small_mmhn, tmp_path)
    cost = record.cost
    assert cost is not None
    # stopped early: exactly `patience` epochs after the selected one, or at the limit
    assert cost.epochs_run == min(cost.best_epoch + 3, 300)


def test_early_stopping_waits_for_the_end_of_the_one_cycle_warmup(small_mmhn: MMHN, tmp_path: Path) -> None:
    # A learner that cannot move (lr 1e-12): validation never improves after epoch 1. With a
    # one-cycle schedule over 100 epochs, patience 3 counts from the lr peak at epoch 30.
    hparams = {**METHODS.get("mlp").resolved_config(), "scheduler": "one_cycle", "lr": 1e-12}
    base = dataclasses.replace(spec("mlp", max_epochs=100), patience=3, hparams=hparams)
    cost = execute_run(base, small_mmhn, tmp_path).cost
    assert cost is not None and (cost.best_epoch, cost.epochs_run) == (1, 33)
    plain = execute_run(dataclasses.replace(base, hparams={**hparams, "scheduler": "none"}), small_mmhn, tmp_path).cost
    assert plain is not None and (plain.best_epoch, plain.epochs_run) == (1, 4)  # no warm-up: patience from epoch 1


class _Diverging(MethodModel):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.num_classes = num_classes

    def forward(self, mmhn: MMHN) -> MethodOutput:
        n = mmhn.num_nodes(mmhn.target)
        return MethodOutput(logits=self.weight * torch.full((n, self.num_classes), float("nan")))


class _DivergingMethod(Method):
    summary = "test-only: NaN logits"
    version = 1

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        return {}

    @classmethod
    def build(cls, mmhn: MMHN, config: MethodConfig, cache_dir: Path) -> MethodModel:
        return _Diverging(mmhn.num_classes)


class _RaisingMethod(_DivergingMethod):
    @classmethod
    def build(cls, mmhn: MMHN, config: MethodConfig, cache_dir: Path) -> MethodModel:
        raise RuntimeError("out of memory (simulated)")


@pytest.fixture()
def broken_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(METHODS._entries, "diverging", _DivergingMethod)
    monkeypatch.setitem(METHODS._entries, "raising", _RaisingMethod)
    monkeypatch.setattr(_DivergingMethod, "name", "diverging", raising=False)
    monkeypatch.setattr(_RaisingMethod, "name", "raising", raising=False)


@pytest.mark.usefixtures("broken_methods")
def test_nan_loss_is_recorded_as_failed(small_mmhn: MMHN, tmp_path: Path) -> None:
    record = execute_run(spec("diverging"), small_mmhn, tmp_path)
    assert record.status == "failed" and record.metrics is None
    assert "NonFiniteLossError: training loss is nan at epoch 1" in record.error


@pytest.mark.usefixtures("broken_methods")
def test_an_exception_is_recorded_as_failed(small_mmhn: MMHN, tmp_path: Path) -> None:
    record = execute_run(spec("raising"), small_mmhn, tmp_path)
    assert record.status == "failed"
    assert record.error == "RuntimeError: out of memory (simulated)"
