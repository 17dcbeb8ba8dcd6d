"""Tuning: the objective is validation-only, budgets are counted honestly, bad input fails in one line."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
import torch
from optuna.trial import TrialState, create_trial

from benchmark.cli import main
from benchmark.protocol import PROTOCOLS, TUNING_SEED_OFFSET
from benchmark.record_store import RecordStore
from benchmark.run import execute_run
from benchmark.spec import RunSpec
from benchmark.tuning import ERROR_ATTR, SURPLUS_ATTR, Tally, TuningJob, run_worker
from benchmark.tuning_objective import REPORT_EVERY, TrialObjective, tuning_seeds, validation_only
from benchmark.tuning_settings import StudySettings, search_space_of
from benchmark.tuning_storage import open_storage, parse_location
from datasets.mmhn import MMHN
from datasets.synthetic import SyntheticOptions, generate
from methods.method import METHODS

TINY = ["--datasets", "synthetic", "--dataset-option", "synthetic:scale=0.1", "--no-progress"]
SPLIT = "random_20_10_70"


@pytest.fixture(scope="module")
def tiny_mmhn() -> MMHN:
    return generate(SyntheticOptions(scale=0.1))


def study_settings(max_epochs: int = 20, seeds: int = 2, sampler_seed: int = 0) -> StudySettings:
    return StudySettings(method="mlp", dataset="synthetic", dataset_options={"scale": 0.1}, split=SPLIT, max_epochs=max_epochs, patience=5,
                         tuning_seeds=tuning_seeds(seeds), search_space=search_space_of("mlp"), pruner="median", sampler_seed=sampler_seed)


class RecordingTrial(optuna.trial.FixedTrial):
    """A fixed-parameter trial that records every report and prunes from a chosen step on."""

    def __init__(self, params: dict[str, Any], prune_at: int | None = None) -> None:
        super().__init__(params)
        self.reports: list[tuple[int, float]] = []
        self.prune_at = prune_at

    def report(self, value: float, step: int) -> None:
        self.reports.append((step, value))

    def should_prune(self) -> bool:
        return self.prune_at is not None and bool(self.reports) and self.reports[-1][0] >= self.prune_at


MLP_PARAMS = {"hidden": 64, "layers": 2, "dropout": 0.1, "lr": 5e-3, "weight_decay": 1e-4}


def test_validation_only_view_erases_test_labels_and_points_test_at_validation(tiny_mmhn: MMHN) -> None:
    view = validation_only(tiny_mmhn, SPLIT)
    split = tiny_mmhn.split(SPLIT)
    assert bool((view.labels[split.test] == -1).all())
    assert torch.equal(view.labels[split.train], tiny_mmhn.labels[split.train])
    assert torch.equal(view.labels[split.val], tiny_mmhn.labels[split.val])
    assert torch.equal(view.split(SPLIT).test, split.val)
    assert bool((tiny_mmhn.labels[split.test] >= 0).all())  # the original graph is untouched


def test_objective_is_the_mean_validation_macro_f1_of_ordinary_runs_on_tuning_seeds(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    settings = study_settings()
    assert settings.tuning_seeds == (TUNING_SEED_OFFSET, TUNING_SEED_OFFSET + 1)
    assert min(settings.tuning_seeds) >= max(p.seeds for p in PROTOCOLS.values())  # disjoint from every reported seed
    trial = RecordingTrial(MLP_PARAMS)
    value = TrialObjective(settings, "cpu", tiny_mmhn, tmp_path)(trial)

    hparams = METHODS.get("mlp").resolved_config(MLP_PARAMS)
    direct = [
        execute_run(RunSpec(method="mlp", dataset="synthetic", split=SPLIT, seed=seed, hparams=hparams, max_epochs=20, patience=5,
                            dataset_options={"scale": 0.1}), tiny_mmhn, tmp_path).metrics.val_macro_f1  # type: ignore[union-attr]
        for seed in settings.tuning_seeds
    ]
    assert value == pytest.approx(statistics.fmean(direct), abs=1e-12)
    assert trial.user_attrs["val_macro_f1_per_seed"] == pytest.approx(direct, abs=1e-12)

    # reports every REPORT_EVERY epochs of a seed, then the finished seed's score at the seed boundary
    steps = [step for step, _ in trial.reports]
    first_seed = [s for s in steps if s < 20]
    assert first_seed == list(range(REPORT_EVERY, first_seed[-1] + 1, REPORT_EVERY))
    assert (20, pytest.approx(direct[0], abs=1e-12)) in trial.reports
    assert all(s % REPORT_EVERY == 0 for s in steps) and steps == sorted(steps)
    assert all(v <= max(direct[0], 1.0) for _, v in trial.reports)


def test_a_pruned_trial_stops_at_the_step_the_pruner_said_so(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    trial = RecordingTrial(MLP_PARAMS, prune_at=10)
    with pytest.raises(optuna.TrialPruned):
        TrialObjective(study_settings(max_epochs=40), "cpu", tiny_mmhn, tmp_path)(trial)
    assert [step for step, _ in trial.reports] == [5, 10]


def test_budget_counts_complete_pruned_and_method_failures_but_not_lost_or_surplus_trials() -> None:
    trials = [
        create_trial(state=TrialState.COMPLETE, value=0.5),
        create_trial(state=TrialState.COMPLETE, value=0.7),
        create_trial(state=TrialState.COMPLETE, value=0.7),  # a tie keeps the earlier trial
        create_trial(state=TrialState.PRUNED, intermediate_values={5: 0.9}),  # pruned values are not objectives
        create_trial(state=TrialState.FAIL, user_attrs={ERROR_ATTR: "NonFiniteLossError"}),
        create_trial(state=TrialState.FAIL),  # lost: its worker died
        create_trial(state=TrialState.FAIL, user_attrs={SURPLUS_ATTR: True}),
        create_trial(state=TrialState.WAITING),
    ]
    for number, trial in enumerate(trials):
        trial.number = number
    tally = Tally.of(trials)
    assert (tally.complete, tally.pruned, tally.failed, tally.lost, tally.surplus, tally.waiting) == (3, 1, 1, 1, 1, 1)
    assert (tally.finished, tally.counted) == (5, 6)
    assert (tally.best_value, tally.best_number) == (0.7, 1)


def _job(tmp_path: Path, name: str, n_trials: int, sampler_seed: int = 0) -> TuningJob:
    settings = study_settings(max_epochs=15, seeds=1, sampler_seed=sampler_seed)
    return TuningJob(settings, name, parse_location(str(tmp_path / f"{name}.db")), n_trials, None, 5, "cpu", "custom")


def _trials_of(job: TuningJob, mmhn: MMHN, tmp_path: Path) -> list[tuple[Any, ...]]:
    storage = open_storage(job.storage, job.heartbeat_s)
    run_worker(job, storage, TrialObjective(job.settings, "cpu", mmhn, tmp_path))
    study = optuna.load_study(study_name=job.study_name, storage=storage)
    return [(t.number, t.state, t.params, t.value, t.intermediate_values) for t in study.trials]


def test_poisoned_test_labels_leave_every_trial_unchanged(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    """Flip every test label: a sequential study asks the same parameters and gets the same values."""
    split = tiny_mmhn.split(SPLIT)
    labels = tiny_mmhn.labels.clone()
    labels[split.test] = (labels[split.test] + 1) % tiny_mmhn.num_classes
    poisoned = dataclasses.replace(tiny_mmhn, labels=labels)

    clean = _trials_of(_job(tmp_path, "clean", 4), tiny_mmhn, tmp_path)
    dirty = _trials_of(_job(tmp_path, "dirty", 4), poisoned, tmp_path)
    assert clean == dirty
    assert len(clean) == 4 and len({json.dumps(t[2], sort_keys=True) for t in clean}) == 4  # four distinct configurations
    assert len({t[3] for t in clean}) > 1  # ... with different scores: the comparison is not vacuous

    other_seed = _trials_of(_job(tmp_path, "other-seed", 2, sampler_seed=1), tiny_mmhn, tmp_path)
    assert [t[2] for t in other_seed] != [t[2] for t in clean[:2]]  # the sampler seed is what fixes the sequence


def test_a_timeout_starts_no_trial_after_it(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    job = dataclasses.replace(_job(tmp_path, "timed", 1), n_trials=None, timeout_s=2.0)
    storage = open_storage(job.storage, job.heartbeat_s)
    start = time.time()
    tally = run_worker(job, storage, TrialObjective(job.settings, "cpu", tiny_mmhn, tmp_path))
    trials = optuna.load_study(study_name="timed", storage=storage).trials
    assert tally.finished == len(trials) >= 1
    # Optuna checks the timeout just before it creates a trial, whose start is stamped a moment
    # later (storage writes on a loaded machine): half a second of slack for that moment
    assert all(t.datetime_start.timestamp() < start + 2.0 + 0.5 for t in trials)  # type: ignore[union-attr]


def test_gpus_get_one_worker_each_or_round_robin(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from benchmark import tuning_cli

    monkeypatch.setattr(tuning_cli, "resolve_device", lambda device: device)  # pretend this machine has the GPUs
    args = argparse.Namespace(gpus="0,2", device="auto")
    assert tuning_cli._worker_devices(args, "cpu", None) == ["cuda:0", "cuda:2"]
    assert tuning_cli._worker_devices(args, "cpu", 3) == ["cuda:0", "cuda:2", "cuda:0"]
    assert tuning_cli._worker_devices(argparse.Namespace(gpus=None, device="auto"), "cpu", 2) == ["cpu", "cpu"]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run_all.py: error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tune", "gcn"], "unknown method 'gcn'; valid: all, "),
        (["--tune", "mlp", "--n-trials", "0"], "--n-trials '0' is not a positive integer"),
        (["--tune", "mlp", "--timeout", "-5"], "--timeout '-5' is not a positive number of seconds"),
        (["--tune", "mlp", "--workers", "two"], "--workers 'two' is not a positive integer"),
        (["--tune", "mlp", "--pruner", "asha"], "unknown pruner 'asha'; valid: median, hyperband, none"),
        (["--tune", "mlp", "--gpus", "0"], "--gpus 0: device 'cuda:0' does not exist on this machine" if not torch.cuda.is_available() else "--gpus"),
        (["--tune", "mlp", "--gpus", "0", "--device", "cpu"], "cannot be combined with --device cpu"),
        (["--tune", "mlp", "--storage", "results/study"], "--storage 'results/study' is malformed; expected an Optuna storage URL"),
        (["--tune", "mlp", "--storage", "postgresql://u:secret@127.0.0.1:port/db"], "is malformed"),
        (["--tune", "mlp", "--storage", "nosuchdb://127.0.0.1/x"], "cannot use storage nosuchdb://127.0.0.1/x"),
        (["--tune", "mlp", "--use-tuned"], "tune first (--tune), then run with --use-tuned"),
        (["--tune", "mlp", "--workers", "2", "--storage", "studies.db"], "is SQLite, which parallel workers lock up"),
        (["--methods", "mlp", "--use-tuned"], "--use-tuned: no tuned configuration for mlp on synthetic"),
    ],
)
def test_bad_tuning_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main([*args, *TINY, "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert message in line and "secret" not in line
    assert not out.exists()


def test_unreachable_storage_fails_within_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.monotonic()
    assert main(["--tune", "mlp", *TINY, "--out", str(tmp_path / "out"), "--storage", "postgresql://mmhn:pw@127.0.0.1:9/mmhn"]) == 2
    assert time.monotonic() - start < 15
    line = _error_line(capsys)
    assert "cannot use storage postgresql://mmhn:***@127.0.0.1:9/mmhn" in line and "refused" in line


def test_a_study_name_taken_by_other_settings_is_refused_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = str(tmp_path / "studies.db")
    job = _job(tmp_path, "shared", 1)
    job = dataclasses.replace(job, storage=parse_location(storage))
    open_study_storage = open_storage(job.storage, 5)
    from benchmark.tuning import open_study

    open_study(job, open_study_storage)  # an mlp study, scale 0.1, 15 epochs, 1 tuning seed
    base = ["--datasets", "synthetic", "--dataset-option", "synthetic:scale=0.1", "--no-progress", "--storage", storage,
            "--study-name", "shared", "--out", str(tmp_path / "out"), "--tuning-seeds", "1"]
    assert main(["--tune", "early_fusion_hgt", *base]) == 2
    line = _error_line(capsys)
    assert "study 'shared'" in line and "method (\"mlp\" there, \"early_fusion_hgt\" here)" in line
    assert "choose a new --study-name (e.g. shared-2)" in line

    changed = dataclasses.replace(job.settings, search_space={**job.settings.search_space, "layers": {"name": "IntDistribution",
                                                                                                      "attributes": {"low": 1, "high": 9, "step": 1, "log": False}}})
    from benchmark.tuning import StudyMismatchError, check_compatible

    with pytest.raises(StudyMismatchError, match=r"search space \(parameters layers differ\)"):
        check_compatible(open_study_storage, "shared", changed, job.storage)


def test_tune_writes_the_tuned_config_and_figures_then_use_tuned_runs_reported_seeds_with_it(tmp_path: Path) -> None:
    out = tmp_path / "results"
    common = [*TINY, "--protocol", "quick", "--out", str(out)]
    assert main(["--tune", "mlp", "--n-trials", "3", "--tuning-seeds", "1", *common]) == 0
    tuned = json.loads((out / "tuned" / "mlp__synthetic.json").read_text())
    assert tuned["trials"]["complete"] + tuned["trials"]["pruned"] + tuned["trials"]["failed"] == 3
    assert tuned["budget"] == {"n_trials": 3, "timeout_s": None}
    assert tuned["sampler"]["seed"] == 0 and tuned["tuning_seeds"] == [TUNING_SEED_OFFSET]
    assert tuned["storage"] == "sqlite:///tuning/optuna.db"  # relative to the results folder, whichever machine made it
    assert tuned["study_name"] == "mlp__synthetic[scale=0.1]__quick"
    assert tuned["hparams"] == METHODS.get("mlp").resolved_config(tuned["best_params"])
    storage = open_storage(parse_location(f"sqlite:///{out.resolve()}/tuning/optuna.db"), 5)
    study = optuna.load_study(study_name=tuned["study_name"], storage=storage)
    assert tuned["best_val_macro_f1"] == max(t.value for t in study.trials if t.state == TrialState.COMPLETE)
    for figure in ("history", "importances"):
        png = out / "tuning" / f"mlp__synthetic_scale=0.1___quick__{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the same command again: the budget is the study's total, already spent
    assert main(["--tune", "mlp", "--n-trials", "3", "--tuning-seeds", "1", *common]) == 0
    assert len(optuna.load_study(study_name=tuned["study_name"], storage=storage).trials) == 3

    assert main(["--methods", "mlp", "--use-tuned", "--seeds", "2", *common]) == 0
    records = RecordStore(out).load()
    assert [r.spec.seed for r in records] == [0, 1]
    assert all(r.spec.config_source == "tuned (3 trials)" and r.spec.hparams == tuned["hparams"] for r in records)
    assert "tuned (3 trials)" in (out / "leaderboard.md").read_text()
