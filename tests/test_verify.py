"""``--verify N`` trains recorded runs again and says, per record and in sum, whether they still come out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.grid import DatasetCache
from benchmark.record_store import RecordStore
from benchmark.run import execute_run
from benchmark.spec import RunSpec
from benchmark.verify import F1_TOLERANCE, Match, draw, verify_record
from datasets.adapter import DataContext
from datasets.missing import MissingSetting
from methods.method import METHODS
from tests.record_factory import make_record

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {"scale": 0.2}


def small_spec(seed: int = 0, missing: MissingSetting = MissingSetting()) -> RunSpec:
    return RunSpec(method="mlp", dataset="synthetic", split="random_20_10_70", seed=seed, hparams=METHODS.get("mlp").resolved_config(),
                   max_epochs=12, patience=5, dataset_options=SMALL, missing=missing)


def recorded(tmp_path: Path, spec: RunSpec):
    datasets = DatasetCache(DataContext(None, tmp_path / "cache"))
    mmhn, fingerprint = datasets.get("synthetic", SMALL)
    record = execute_run(spec, mmhn, tmp_path / "cache", fingerprint)
    assert record.ok
    return record, datasets


def with_scores(record, **changes):
    return dataclasses.replace(record, metrics=dataclasses.replace(record.metrics, **changes))


def test_the_draw_visits_every_method_before_any_repeats_and_depends_only_on_its_seed() -> None:
    records = [make_record(m, "synthetic", seed, 0.5) for m in ("mlp", "han", "magnn") for seed in range(5)]
    picked = draw(records, 4, seed=0)
    assert len(picked) == 4 and {r.spec.method for r in picked[:3]} == {"mlp", "han", "magnn"}
    assert [r.spec_id for r in draw(list(reversed(records)), 4, seed=0)] == [r.spec_id for r in picked]  # order of the store is irrelevant
    assert any([r.spec_id for r in draw(records, 4, seed=s)] != [r.spec_id for r in picked] for s in range(1, 5))
    assert len(draw(records, 100, seed=0)) == 15
    failed = make_record("mlp", "synthetic", 9, 0.0, status="failed")
    assert failed not in draw([failed], 1, seed=0)  # a failed run has nothing to compare


def test_a_run_of_this_code_matches_exactly_and_each_kind_of_difference_is_told_apart(tmp_path: Path) -> None:
    record, datasets = recorded(tmp_path, small_spec())
    assert verify_record(record, datasets).match is Match.EXACT
    other_epoch = dataclasses.replace(record, cost=dataclasses.replace(record.cost, best_epoch=record.cost.best_epoch + 1))
    result = verify_record(other_epoch, datasets)
    assert result.match is Match.DIFFERS and result.differences[0].startswith(f"selected epoch {record.cost.best_epoch + 1} -> ")
    close = with_scores(record, test_macro_f1=record.metrics.test_macro_f1 + F1_TOLERANCE / 2)
    assert verify_record(close, datasets).match is Match.WITHIN_TOLERANCE
    far = with_scores(record, val_macro_f1=record.metrics.val_macro_f1 - 2 * F1_TOLERANCE)
    assert verify_record(far, datasets).match is Match.DIFFERS


def test_a_test_only_record_trains_its_model_instead_of_loading_stored_weights(tmp_path: Path, monkeypatch) -> None:
    # Weights are stored only for a clean checkout: pretend to be one, so they are there to be ignored.
    monkeypatch.setattr("benchmark.selected_weights.code_version", lambda: "0123456789ab")
    spec = small_spec(missing=MissingSetting("mcar", "image", 0.5, "test_only"))
    record, datasets = recorded(tmp_path, spec)
    mmhn, fingerprint = datasets.get("synthetic", SMALL)
    assert execute_run(spec, mmhn, tmp_path / "cache", fingerprint).weights_from  # the harness itself would load them
    result = verify_record(record, datasets)
    assert result.now.weights_from == "" and result.match is Match.EXACT


def test_the_command_prints_each_record_and_the_counts_exits_by_them_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    store = RecordStore(out)
    for seed in range(2):
        store.append(recorded(tmp_path, small_spec(seed))[0])
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    argv = ["--verify", "2", "--datasets", "synthetic", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "mlp on synthetic (seed 0)" in text and "mlp on synthetic (seed 1)" in text and "(current)" in text
    assert "2 of 2 match exactly, 0 within tolerance" in text and text.rstrip().endswith("0 differ")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files

    bad = store.latest()[small_spec(1).spec_id]
    store.append(with_scores(bad, test_macro_f1=bad.metrics.test_macro_f1 + 0.05))  # a record this code does not give
    assert main(argv) == 1
    assert "1 of 2 match exactly, 0 within tolerance (same selected epoch, validation and test Macro-F1 within 0.1 points), 1 differ" in capsys.readouterr().out


@pytest.mark.parametrize(("value", "message"), [
    ("0", "--verify '0' is not a positive integer"),
    ("abc", "--verify 'abc' is not a positive integer"),
    ("3", "--verify: no successful record of synthetic in"),
])
def test_bad_verify_input_is_one_line_and_exit_2(tmp_path: Path, capsys, value: str, message: str) -> None:
    assert main(["--verify", value, "--datasets", "synthetic", "--out", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
