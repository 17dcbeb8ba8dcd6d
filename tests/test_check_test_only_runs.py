"""A test_only run must select exactly what its plain run selected; the check names every pair that does not."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from benchmark.record_store import RecordStore
from benchmark.scripts.check_test_only_runs import consistency, main, report
from benchmark.spec import RunSpec
from datasets.missing import MissingSetting
from tests.record_factory import make_record


def plain(method: str = "hgnn_ima", seed: int = 0, best_epoch: int = 30, val: float = 0.62, device: str = "cpu (AMD EPYC, 1 threads)"):
    record = make_record(method, "imdb_mm", seed, 0.6, device_name=device)
    return dataclasses.replace(record, cost=dataclasses.replace(record.cost, best_epoch=best_epoch),
                               metrics=dataclasses.replace(record.metrics, val_macro_f1=val))


def dropped_at_test(of, modality: str, rate: float, best_epoch: int | None = None, val: float | None = None, loaded: bool = False,
              device: str = "cpu (Intel(R) Xeon(R) Processor, 1 threads)"):
    """A test_only run of ``of``'s spec: by default it selected what ``of`` did."""
    spec = dataclasses.replace(of.spec, missing=MissingSetting("mcar", modality, rate, "test_only"))
    return dataclasses.replace(
        of, spec=spec, spec_id=spec.spec_id, weights_from=of.spec_id if loaded else "",
        cost=dataclasses.replace(of.cost, best_epoch=best_epoch or of.cost.best_epoch, device_name=device),
        metrics=dataclasses.replace(of.metrics, val_macro_f1=val if val is not None else of.metrics.val_macro_f1, test_macro_f1=0.3),
    )


def test_runs_that_select_the_plain_runs_epoch_and_validation_score_are_consistent_whatever_their_test_score() -> None:
    base = plain()
    rows = consistency([base, dropped_at_test(base, "image", 0.5), dropped_at_test(base, "image", 0.9, loaded=True), dropped_at_test(base, "text", 0.5)])
    assert len(rows) == 1
    (row,) = rows
    assert row.consistent and row.matching == 3 and row.loaded == 1 and row.plain == base


def test_another_epoch_or_another_validation_score_is_a_mismatch_named_with_both_devices() -> None:
    base = plain(seed=3, best_epoch=76, val=0.694059)
    other_epoch = dropped_at_test(base, "image", 0.5, best_epoch=78)
    other_score = dropped_at_test(base, "text", 0.5, val=0.694058)  # exact comparison: a last-digit change counts
    rows = consistency([base, dropped_at_test(base, "image", 0.9), other_epoch, other_score])
    (row,) = rows
    assert not row.consistent and row.matching == 1
    text = report(rows)
    assert "1 of 3 test_only runs match their plain run; 1 (row, seed) pair(s) differ" in text
    assert "epoch 76, val Macro-F1 0.694059 (code abc123, cpu (AMD EPYC, 1 threads))" in text
    assert "mcar image r=0.5 test_only: epoch 78" in text and "Intel(R) Xeon(R)" in text
    assert "mcar image r=0.9" not in text  # a matching run is counted, not listed


def test_runs_are_paired_with_their_own_plain_run_only() -> None:
    """Another seed, method or configuration is another plain run; train_test points are not checked."""
    seed0, seed1, mlp = plain(seed=0, best_epoch=10), plain(seed=1, best_epoch=20), plain(method="mlp", best_epoch=5)
    tuned_spec = dataclasses.replace(seed0.spec, hparams={"lr": 0.02}, config_source="tuned (20 trials)")
    tuned = dataclasses.replace(seed0, spec=tuned_spec, spec_id=tuned_spec.spec_id)
    in_training = dataclasses.replace(dropped_at_test(seed0, "image", 0.5, best_epoch=99), spec=RunSpec(
        **{**seed0.spec.__dict__, "missing": MissingSetting("mcar", "image", 0.5, "train_test")}))
    records = [seed0, seed1, mlp, tuned, dropped_at_test(seed0, "image", 0.5), dropped_at_test(seed1, "image", 0.5), dropped_at_test(mlp, "image", 0.5),
               dropped_at_test(tuned, "image", 0.5), dataclasses.replace(in_training, spec_id=in_training.spec.spec_id)]
    rows = consistency(records)
    assert len(rows) == 4 and all(row.consistent for row in rows)
    assert sorted((row.key.method, row.key.config_source, row.seed) for row in rows) == [
        ("hgnn_ima", "defaults", 0), ("hgnn_ima", "defaults", 1), ("hgnn_ima", "tuned (20 trials)", 0), ("mlp", "defaults", 0)]


def test_a_missing_plain_record_is_reported_and_the_latest_record_of_a_spec_counts() -> None:
    base = plain()
    orphan = dropped_at_test(plain(seed=5), "image", 0.5)
    rerun = plain(best_epoch=31)  # appended later under the same spec id: it supersedes base
    rows = {row.seed: row for row in consistency([base, dropped_at_test(base, "image", 0.5), orphan, rerun])}
    assert rows[5].plain is None and not rows[5].consistent
    assert rows[0].plain.cost.best_epoch == 31 and not rows[0].consistent
    assert "no successful plain record" in report(list(rows.values()))


def test_the_script_exits_1_on_a_mismatch_and_0_when_every_run_matches(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["check_test_only_runs.py", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="no records in"):
        main()
    store = RecordStore(tmp_path)
    base = plain()
    for record in (base, dropped_at_test(base, "image", 0.5), dropped_at_test(plain(method="mlp"), "text", 0.1)):
        store.append(record)
    with pytest.raises(SystemExit) as failed:
        main()
    assert failed.value.code == 1
    monkeypatch.setattr(sys, "argv", ["check_test_only_runs.py", "--out", str(tmp_path), "--dataset", "imdb_mm"])
    store.append(plain(method="mlp"))
    with pytest.raises(SystemExit) as passed:
        main()
    assert passed.value.code == 0
    assert "2 of 2 test_only runs match their plain run; 0 (row, seed) pair(s) differ" in capsys.readouterr().out
