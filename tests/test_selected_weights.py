"""test_only runs of one plain spec share its selected weights instead of training again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from benchmark import run as run_module
from benchmark import selected_weights
from benchmark.record import RunRecord
from benchmark.run import execute_run
from benchmark.selected_weights import SelectedWeightsCache, plain_spec
from benchmark.spec import RunSpec
from datasets.missing import MissingSetting
from datasets.mmhn import MMHN
from datasets.synthetic import SyntheticOptions, generate
from methods.method import METHODS

FINGERPRINT = "data-v1"


@pytest.fixture(scope="module")
def tiny_mmhn() -> MMHN:
    return generate(SyntheticOptions(scale=0.05))


@pytest.fixture(autouse=True)
def clean_code_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """A committed checkout; the tests' own tree may have uncommitted edits."""
    monkeypatch.setattr(selected_weights, "code_version", lambda: "0123456789ab")


def spec(method: str, missing: MissingSetting) -> RunSpec:
    return RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=1,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=6, patience=3, missing=missing)


def dropped_at_test(modality: str, rate: float) -> MissingSetting:
    return MissingSetting("mcar", modality, rate, "test_only")


@pytest.mark.parametrize("method", METHODS.names())
def test_a_run_that_loads_the_weights_scores_exactly_like_one_that_retrains(tiny_mmhn: MMHN, tmp_path: Path, method: str) -> None:
    first = execute_run(spec(method, dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, FINGERPRINT)  # trains, stores
    reused = execute_run(spec(method, dropped_at_test("text", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT)  # loads
    retrained = execute_run(spec(method, dropped_at_test("text", 0.5)), tiny_mmhn, tmp_path / "elsewhere", FINGERPRINT)
    assert first.ok and reused.ok and retrained.ok, (first.error, reused.error, retrained.error)
    assert first.weights_from == "" and retrained.weights_from == ""
    assert reused.weights_from == plain_spec(reused.spec).spec_id
    assert reused.metrics == retrained.metrics
    assert reused.cost.best_epoch == retrained.cost.best_epoch == first.cost.best_epoch  # type: ignore[union-attr]
    assert reused.cost.epochs_run == retrained.cost.epochs_run  # type: ignore[union-attr]


def test_the_weights_are_the_plain_runs_whatever_the_rate_or_modality(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    cache = SelectedWeightsCache(tmp_path)
    paths = {cache.path(spec("mlp", m)) for m in (dropped_at_test("image", 0.5), dropped_at_test("text", 0.9), MissingSetting())}
    assert paths == {tmp_path / "selected-weights" / f"{spec('mlp', MissingSetting()).spec_id}.pt"}


def test_weights_of_other_data_or_code_are_not_used(tiny_mmhn: MMHN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    execute_run(spec("mlp", dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, FINGERPRINT)
    assert execute_run(spec("mlp", dropped_at_test("image", 0.5)), tiny_mmhn, tmp_path, "data-v2").weights_from == ""
    # the retrained run replaced the weights: they now belong to data-v2
    assert execute_run(spec("mlp", dropped_at_test("image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT).weights_from == ""
    monkeypatch.setattr(selected_weights, "code_version", lambda: "ba9876543210")
    assert execute_run(spec("mlp", dropped_at_test("image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT).weights_from == ""
    assert execute_run(spec("mlp", dropped_at_test("text", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT).weights_from != ""


def test_uncommitted_code_or_unknown_data_stores_nothing(tiny_mmhn: MMHN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    execute_run(spec("mlp", dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, "")
    monkeypatch.setattr(selected_weights, "code_version", lambda: "0123456789ab+dirty")
    execute_run(spec("mlp", dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, FINGERPRINT)
    assert not (tmp_path / "selected-weights").exists() or not any((tmp_path / "selected-weights").iterdir())


def test_outside_a_sweep_plain_and_train_test_runs_neither_store_nor_load(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    plain = execute_run(spec("mlp", MissingSetting()), tiny_mmhn, tmp_path, FINGERPRINT)
    train_test = execute_run(spec("mlp", MissingSetting("mcar", "image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT)
    assert plain.ok and train_test.ok
    assert not (tmp_path / "selected-weights").exists()
    execute_run(spec("mlp", dropped_at_test("image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT)
    again = execute_run(spec("mlp", MissingSetting("mcar", "image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT)
    assert again.weights_from == "" and again.metrics == train_test.metrics


def test_in_a_sweep_the_plain_run_stores_its_weights_and_test_only_points_evaluate_that_model(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    plain = execute_run(spec("early_fusion_hgt", MissingSetting()), tiny_mmhn, tmp_path, FINGERPRINT, store_plain_weights=True)
    assert plain.ok and plain.weights_from == ""  # the plain run always trains: it is the leaderboard's record
    assert SelectedWeightsCache(tmp_path).path(plain.spec).exists()
    dropped = execute_run(spec("early_fusion_hgt", dropped_at_test("image", 0.0001)), tiny_mmhn, tmp_path, FINGERPRINT)
    assert dropped.weights_from == plain.spec_id
    assert dropped.cost.best_epoch == plain.cost.best_epoch and dropped.metrics.val_macro_f1 == plain.metrics.val_macro_f1  # type: ignore[union-attr]
    again = execute_run(spec("early_fusion_hgt", MissingSetting()), tiny_mmhn, tmp_path, FINGERPRINT, store_plain_weights=True)
    assert again.weights_from == "" and again.metrics == plain.metrics


def test_the_sweep_flag_does_not_make_train_test_runs_share(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    execute_run(spec("mlp", MissingSetting("mcar", "image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT, store_plain_weights=True)
    assert not (tmp_path / "selected-weights").exists()


def test_a_torn_weights_file_is_a_miss_and_is_replaced(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    path = SelectedWeightsCache(tmp_path).path(spec("mlp", MissingSetting()))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 cut short")
    assert execute_run(spec("mlp", dropped_at_test("image", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT).weights_from == ""
    assert execute_run(spec("mlp", dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, FINGERPRINT).weights_from != ""
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_a_test_only_run_that_starts_while_another_trains_the_same_model_waits_and_loads_it(
    tiny_mmhn: MMHN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers that pick up two points of one curve at once train the model once."""
    training = threading.Event()
    real_train = run_module._train

    def slow_train(*args, **kwargs):  # type: ignore[no-untyped-def]
        training.set()
        time.sleep(2.0)  # ample time for the second run to look up the weights meanwhile
        return real_train(*args, **kwargs)

    monkeypatch.setattr(run_module, "_train", slow_train)
    records: dict[str, RunRecord] = {}

    def first() -> None:
        records["first"] = execute_run(spec("mlp", dropped_at_test("image", 0.9)), tiny_mmhn, tmp_path, FINGERPRINT)

    worker = threading.Thread(target=first)
    worker.start()
    assert training.wait(timeout=60)
    called = time.perf_counter()
    second = execute_run(spec("mlp", dropped_at_test("text", 0.5)), tiny_mmhn, tmp_path, FINGERPRINT)
    wall = time.perf_counter() - called
    worker.join(timeout=120)
    assert records["first"].weights_from == ""
    assert second.weights_from == plain_spec(second.spec).spec_id
    assert second.cost.best_epoch == records["first"].cost.best_epoch  # type: ignore[union-attr]
    # It waited most of the first run's 2 s training; that wait is not its cost.
    assert second.cost.total_seconds < wall - 1.0  # type: ignore[union-attr]


def claims_from_another_worker(cache: SelectedWeightsCache, held: RunSpec, wanted: RunSpec) -> tuple[bool, bool]:
    """Whether another thread's claim on ``wanted`` got through while ``held`` was claimed, and once it was released."""
    done = threading.Event()

    def other_worker() -> None:
        with cache.exclusive(wanted, FINGERPRINT):
            done.set()

    with cache.exclusive(held, FINGERPRINT):
        threading.Thread(target=other_worker, daemon=True).start()
        during = done.wait(timeout=2)
    return during, done.wait(timeout=10)


def test_a_claim_on_a_plain_model_waits_while_another_run_holds_it(tmp_path: Path) -> None:
    cache = SelectedWeightsCache(tmp_path)
    assert claims_from_another_worker(cache, spec("mlp", MissingSetting()), spec("mlp", dropped_at_test("image", 0.5))) == (False, True)


def test_claims_on_different_plain_models_do_not_wait_for_each_other(tmp_path: Path) -> None:
    cache = SelectedWeightsCache(tmp_path)
    assert claims_from_another_worker(cache, spec("mlp", dropped_at_test("image", 0.5)), spec("han", dropped_at_test("image", 0.5))) == (True, True)


def test_where_nothing_would_be_stored_concurrent_runs_do_not_wait_for_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selected_weights, "code_version", lambda: "0123456789ab+dirty")
    cache = SelectedWeightsCache(tmp_path)
    assert claims_from_another_worker(cache, spec("mlp", MissingSetting()), spec("mlp", dropped_at_test("image", 0.5))) == (True, True)
    assert not tmp_path.joinpath("selected-weights.locks").exists()
