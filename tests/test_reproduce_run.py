"""reproduce_run.py trains a recorded spec again and says whether the record still comes out, never writing results."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from benchmark.grid import DatasetCache
from benchmark.record_store import RecordStore
from benchmark.run import execute_run
from benchmark.scripts.reproduce_run import Reproduction, main, reproduce, verdict
from benchmark.spec import RunSpec
from datasets.adapter import DataContext
from datasets.missing import MissingSetting
from methods.method import METHODS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {"scale": 0.2}


def small_spec(missing: MissingSetting = MissingSetting()) -> RunSpec:
    return RunSpec(method="mlp", dataset="synthetic", split="random_20_10_70", seed=0, hparams=METHODS.get("mlp").resolved_config(),
                   max_epochs=12, patience=5, dataset_options=SMALL, missing=missing)


def recorded(tmp_path: Path, spec: RunSpec):
    datasets = DatasetCache(DataContext(None, tmp_path / "cache"))
    mmhn, fingerprint = datasets.get("synthetic", SMALL)
    record = execute_run(spec, mmhn, tmp_path / "cache", fingerprint)
    assert record.ok
    return record, datasets


def test_a_run_of_this_code_reproduces_identically(tmp_path: Path) -> None:
    record, datasets = recorded(tmp_path, small_spec())
    result = reproduce(record, datasets)
    assert result.identical and verdict(result) == "identical"
    assert result.now.metrics == record.metrics and result.now.cost.best_epoch == record.cost.best_epoch


def test_another_selected_epoch_is_reported_as_a_difference_and_other_scores_alone_as_such(tmp_path: Path) -> None:
    record, datasets = recorded(tmp_path, small_spec())
    other_epoch = dataclasses.replace(record, cost=dataclasses.replace(record.cost, best_epoch=record.cost.best_epoch + 1))
    other_test = dataclasses.replace(record, metrics=dataclasses.replace(record.metrics, test_macro_f1=record.metrics.test_macro_f1 + 1e-9))
    assert verdict(reproduce(other_epoch, datasets)).startswith("DIFFERS")
    assert verdict(reproduce(other_test, datasets)) == "same selection, other scores"


def test_a_test_only_spec_trains_its_model_instead_of_loading_stored_weights(tmp_path: Path, monkeypatch) -> None:
    # Weights are stored only for a clean checkout: pretend to be one, so they are there to be ignored.
    monkeypatch.setattr("benchmark.selected_weights.code_version", lambda: "0123456789ab")
    spec = small_spec(MissingSetting("mcar", "image", 0.5, "test_only"))
    record, datasets = recorded(tmp_path, spec)
    mmhn, fingerprint = datasets.get("synthetic", SMALL)
    assert execute_run(spec, mmhn, tmp_path / "cache", fingerprint).weights_from  # the harness itself would load them
    result = reproduce(record, datasets)
    assert result.now.weights_from == "" and result.now.cost.epochs_run >= 1
    assert isinstance(result, Reproduction) and result.identical


def test_the_script_prints_both_runs_exits_by_verdict_and_writes_no_record(tmp_path: Path, monkeypatch, capsys) -> None:
    record, _ = recorded(tmp_path, small_spec())
    store = RecordStore(tmp_path / "results")
    store.append(record)
    argv = ["reproduce_run.py", record.spec_id, "--out", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as same:
        main()
    assert same.value.code == 0
    out = capsys.readouterr().out
    assert f"{record.spec_id}  mlp on synthetic (seed 0)" in out and out.count(f"epoch {record.cost.best_epoch} of") == 2 and "identical" in out
    store.append(dataclasses.replace(record, cost=dataclasses.replace(record.cost, best_epoch=record.cost.best_epoch + 1)))
    with pytest.raises(SystemExit) as differs:
        main()
    assert differs.value.code == 1 and "DIFFERS" in capsys.readouterr().out
    assert store.count() == 2  # the two appended here; the script wrote none

    monkeypatch.setattr(sys, "argv", [*argv[:1], "feedfacefeedface", *argv[2:]])
    with pytest.raises(SystemExit, match="no record with spec id feedfacefeedface"):
        main()
