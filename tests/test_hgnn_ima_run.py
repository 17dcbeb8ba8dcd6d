"""HGNN-IMA through the harness: records its λ diagnostics and never trains on non-train labels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.mmhn import MMHN
from methods.method import METHODS


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def spec(method: str, **overrides: object) -> RunSpec:
    hparams = METHODS.get(method).resolved_config({"layers": 2, **overrides})
    return RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=0, hparams=hparams, max_epochs=4, patience=2)


def test_run_records_mean_lambda_per_layer_relation_and_modality(small_mmhn: MMHN, tmp_path: Path) -> None:
    record = execute_run(spec("hgnn_ima"), small_mmhn, tmp_path)
    assert record.ok, record.error
    lam = record.diagnostics["lambda_mean"]
    assert (len(lam), len(lam[0]), len(lam[0][0])) == (2, len(small_mmhn.edge_types), len(small_mmhn.modalities))
    for layer in lam:
        for relation in layer:
            assert abs(sum(relation) - 1.0) < 1e-5  # λ sums to one over modalities on every edge
    assert 0.0 < record.diagnostics["attention_loss"] < 1.0
    assert abs(sum(record.diagnostics["readout_gamma_mean"]) - 1.0) < 1e-5


def test_auxiliary_per_modality_loss_never_reads_test_labels(small_mmhn: MMHN, tmp_path: Path) -> None:
    split = small_mmhn.splits["random_20_10_70"]
    poisoned_labels = small_mmhn.labels.clone()
    poisoned_labels[split.test] = (poisoned_labels[split.test] + 1) % small_mmhn.num_classes
    poisoned = dataclasses.replace(small_mmhn, labels=poisoned_labels)
    clean = execute_run(spec("hgnn_ima", aux_weight=1.0), small_mmhn, tmp_path)
    dirty = execute_run(spec("hgnn_ima", aux_weight=1.0), poisoned, tmp_path)
    assert clean.ok and dirty.ok
    assert clean.cost.best_epoch == dirty.cost.best_epoch  # type: ignore[union-attr]
    assert clean.metrics.val_macro_f1 == dirty.metrics.val_macro_f1  # type: ignore[union-attr]
    assert clean.metrics.train_macro_f1 == dirty.metrics.train_macro_f1  # type: ignore[union-attr]
    assert clean.metrics.test_macro_f1 != dirty.metrics.test_macro_f1  # type: ignore[union-attr]


def test_same_spec_gives_the_same_run_twice(small_mmhn: MMHN, tmp_path: Path) -> None:
    """The sparse kernels and segment softmaxes are deterministic on CPU."""
    first = execute_run(spec("hgnn_ima", combine="renorm_product"), small_mmhn, tmp_path)
    second = execute_run(spec("hgnn_ima", combine="renorm_product"), small_mmhn, tmp_path)
    assert first.ok and second.ok
    assert first.metrics == second.metrics and first.diagnostics == second.diagnostics
