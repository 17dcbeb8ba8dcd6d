"""HGNN-IMA's λ heatmaps average seeds of one leaderboard row only, never across protocols or settings."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from benchmark.record_store import RecordStore
from benchmark.scripts.plot_hgnn_ima_lambda import figure_name, lambda_groups, main
from benchmark.spec import RunSpec
from datasets.missing import MissingSetting
from tests.record_factory import make_record


def with_lambda(record, value: float, layers: int = 3):
    lam = np.full((layers, 2, 2), 0.5)
    lam[:, :, 1], lam[:, :, 0] = value, 1 - value
    return dataclasses.replace(record, diagnostics={"lambda_mean": lam.tolist(), "attention_loss": value})


def test_seeds_of_different_protocols_configurations_and_missing_settings_are_never_averaged() -> None:
    standard = [with_lambda(make_record("hgnn_ima", "imdb_mm", seed, 0.6), 0.1) for seed in (1, 0)]
    quick = [with_lambda(make_record("hgnn_ima", "imdb_mm", seed, 0.6, max_epochs=50, patience=20), 0.49) for seed in (0, 1)]
    tuned = with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6, config_source="tuned (20 trials)", hparams={"layers": 1}), 0.3, layers=1)
    dropped = RunSpec(method="hgnn_ima", dataset="imdb_mm", split="fixed", seed=0, hparams={"lr": 0.01}, max_epochs=200, patience=30,
                      missing=MissingSetting("mcar", "image", 0.5))
    swept = with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6, spec=dropped), 0.2)
    no_lambda = make_record("hgnn_ima", "imdb_mm", 2, 0.6)
    other_method = with_lambda(make_record("mlp", "imdb_mm", 0, 0.6), 0.9)

    groups = lambda_groups([*standard, *quick, tuned, swept, no_lambda, other_method], {"hgnn_ima"})

    by_label = {(key.protocol, key.config_source): group for key, group in groups.items()}
    assert set(by_label) == {("standard", "defaults"), ("quick", "defaults"), ("standard", "tuned (20 trials)")}
    assert [r.spec.seed for r in by_label[("standard", "defaults")]] == [0, 1]  # seeds in order, the sweep's seed 0 left out
    assert {r.diagnostics["attention_loss"] for r in by_label[("standard", "defaults")]} == {0.1}
    assert {r.diagnostics["attention_loss"] for r in by_label[("quick", "defaults")]} == {0.49}


def test_figure_names_tell_protocols_and_tuned_configurations_apart() -> None:
    records = [
        with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6), 0.1),
        with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6, max_epochs=50, patience=20), 0.1),
        with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6, config_source="tuned (20 trials)", hparams={"layers": 1}), 0.1, layers=1),
        with_lambda(make_record("hgnn_ima", "imdb_mm", 0, 0.6, config_source="tuned (20 trials)", hparams={"layers": 2}), 0.1, layers=2),
    ]
    names = [figure_name(key) for key in lambda_groups(records, {"hgnn_ima"})]
    assert len(set(names)) == 4
    assert "lambda_imdb_mm_hgnn_ima_standard.png" in names and "lambda_imdb_mm_hgnn_ima_quick.png" in names
    assert all("/" not in name and " " not in name for name in names)


def test_the_script_reads_a_results_folder_and_writes_one_figure_per_row(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["plot_hgnn_ima_lambda.py", "--out", str(tmp_path), "--cache-dir", str(tmp_path / "cache")])
    with pytest.raises(SystemExit, match="no records in"):
        main()
    store = RecordStore(tmp_path)
    for seed, value in ((0, 0.2), (1, 0.4)):  # "toy" is no registered dataset: generic relation names
        store.append(with_lambda(make_record("hgnn_ima", "toy", seed, 0.6), value))
    main()
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["lambda_toy_hgnn_ima_standard.png"]
    assert "0.700  0.300" in capsys.readouterr().out  # each relation's row: the seeds' mean λ per modality
