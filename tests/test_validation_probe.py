"""The validation probe: defaults then each override, scored on validation through the harness's loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.grid import DatasetCache
from benchmark.protocol import PROTOCOLS
from benchmark.run import execute_run
from benchmark.scripts import validation_probe
from benchmark.scripts.validation_probe import configurations, parse_override, probe
from benchmark.spec import RunSpec
from datasets.adapter import DataContext
from methods.method import METHODS

SMALL = {"scale": 0.1}


def test_each_override_is_probed_alone_after_the_defaults_unless_together() -> None:
    overrides = [parse_override("input_batchnorm=true"), parse_override("combine=sum")]
    assert overrides == [("input_batchnorm", True), ("combine", "sum")]  # JSON values, bare words as strings
    assert configurations(overrides, together=False) == [
        ("defaults", {}), ("input_batchnorm=true", {"input_batchnorm": True}), ('combine="sum"', {"combine": "sum"})]
    assert configurations(overrides, together=True) == [
        ("defaults", {}), ('input_batchnorm=true, combine="sum"', {"input_batchnorm": True, "combine": "sum"})]


def test_a_probe_scores_what_an_ordinary_run_scores_on_validation(tmp_path: Path) -> None:
    # The probe trains on the graph tuning sees (test labels erased): validation is untouched,
    # so the defaults' validation Macro-F1 is the ordinary run's, and an override changes it.
    context = DataContext(None, tmp_path)
    runs = probe("mlp", "synthetic", [("hidden", 8)], [0], "quick", context, dataset_options=SMALL)
    assert [(r.config, r.seed) for r in runs] == [("defaults", 0), ("hidden=8", 0)]
    mmhn, fingerprint = DatasetCache(context).get("synthetic", SMALL)
    quick = PROTOCOLS["quick"]
    spec = RunSpec(method="mlp", dataset="synthetic", split="random_20_10_70", seed=0, hparams=METHODS.get("mlp").resolved_config(),
                   max_epochs=quick.max_epochs, patience=quick.patience, dataset_options=SMALL)
    ordinary = execute_run(spec, mmhn, tmp_path, fingerprint)
    assert runs[0].val_macro_f1 == ordinary.metrics.val_macro_f1
    assert runs[0].train_macro_f1 == ordinary.metrics.train_macro_f1
    assert runs[1].val_macro_f1 != runs[0].val_macro_f1


def test_the_probe_never_hands_a_test_label_to_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trained_on = []
    real_run = validation_probe.execute_run

    def spy(spec, graph, *args, **kwargs):
        trained_on.append(graph)
        return real_run(spec, graph, *args, **kwargs)

    monkeypatch.setattr(validation_probe, "execute_run", spy)
    context = DataContext(None, tmp_path)
    probe("mlp", "synthetic", [], [0], "quick", context, dataset_options=SMALL)
    mmhn, _ = DatasetCache(context).get("synthetic", SMALL)
    split = mmhn.split("random_20_10_70")
    assert len(trained_on) == 1
    assert bool((trained_on[0].labels[split.test] == -1).all())  # erased, not merely unread
    assert trained_on[0].split("random_20_10_70").test.tolist() == split.val.tolist()  # "test" scores validation
