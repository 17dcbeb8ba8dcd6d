"""--jobs N: the same records as one after another; a dead worker costs no run and no duplicate."""

from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path
from typing import Generator, Sequence

import pytest

from benchmark.cli import main
from benchmark.executor import Executor
from benchmark.grid import InProcessExecutor, plan_grid, run_grid
from benchmark.local_pool import LocalPoolExecutor
from benchmark.protocol import Protocol
from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.spec import RunSpec
from datasets.adapter import DataContext

TINY = Protocol("tiny", seeds=2, max_epochs=4, patience=4, description="test")
SMALL = {"synthetic": {"scale": 0.1}}
# Imported only by the workers: in this process its methods would join `--methods all`.
KILLERS = ("tests.process_killing_methods",)
DIED_MARKER = "died-once"  # the file that method leaves in the cache folder when it kills its first worker


def grid_specs() -> list[RunSpec]:
    return plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], TINY, seeds=2, device="cpu", dataset_options=SMALL)


def as_method(spec: RunSpec, method: str) -> RunSpec:
    """The same run under another method name (the test methods are the MLP)."""
    return dataclasses.replace(spec, method=method)


def outcome_by_spec(records: Sequence[RunRecord]) -> dict[str, tuple]:
    """What must not depend on where a run executed: scores, selected epoch, size."""
    return {r.spec_id: (r.status, r.metrics, r.cost.best_epoch, r.cost.epochs_run, r.cost.num_parameters) for r in records if r.cost}


def test_two_jobs_give_the_records_of_one_job_spec_by_spec(tmp_path: Path) -> None:
    context = DataContext(None, tmp_path / "cache")
    serial = run_grid(grid_specs(), RecordStore(tmp_path / "serial.jsonl"), context, progress=False, executor=InProcessExecutor(threads_per_run=1))
    pooled_store = RecordStore(tmp_path / "pooled.jsonl")
    pooled = run_grid(grid_specs(), pooled_store, context, progress=False, executor=LocalPoolExecutor(jobs=2, threads_per_run=1))

    assert len(serial.records) == len(pooled.records) == 4
    assert all(r.ok for r in pooled.records)
    assert outcome_by_spec(pooled.records) == outcome_by_spec(serial.records)
    assert sorted(r.spec_id for r in pooled_store.load()) == sorted(s.spec_id for s in grid_specs())  # once each
    assert all(r.cost.device_name.endswith(" 1 threads)") for r in pooled.records)  # type: ignore[union-attr]
    assert [p for p in multiprocessing.active_children() if p.name == "mmhn-run-worker"] == []  # all stopped


def test_a_run_whose_worker_dies_is_run_again_and_recorded_once(tmp_path: Path) -> None:
    context = DataContext(None, tmp_path / "cache")
    mlp = grid_specs()[0]
    dies_once = as_method(mlp, "kills_its_process_once")
    others = [grid_specs()[1], grid_specs()[2]]
    store = RecordStore(tmp_path)
    outcome = run_grid([dies_once, *others], store, context, progress=False,
                       executor=LocalPoolExecutor(jobs=2, max_retries=2, preload_modules=KILLERS))

    assert (tmp_path / "cache" / DIED_MARKER).exists()  # its first worker really died
    assert sorted(r.spec_id for r in store.load()) == sorted(s.spec_id for s in [dies_once, *others])
    assert all(r.ok for r in outcome.records)
    reference = run_grid([mlp], RecordStore(tmp_path / "ref.jsonl"), context, progress=False, executor=InProcessExecutor(1)).records[0]
    survivor = next(r for r in outcome.records if r.spec.method == "kills_its_process_once")
    assert survivor.metrics == reference.metrics  # the retry is a clean run, not a half-finished one


def test_a_run_that_always_kills_its_worker_is_recorded_failed_after_the_retries(tmp_path: Path) -> None:
    context = DataContext(None, tmp_path / "cache")
    killer = as_method(grid_specs()[0], "kills_its_process")
    fine = next(s for s in grid_specs() if s.method == "mlp" and s.seed == 1)
    store = RecordStore(tmp_path)
    outcome = run_grid([killer, fine], store, context, progress=False,
                       executor=LocalPoolExecutor(jobs=2, max_retries=1, preload_modules=KILLERS))

    by_method = {r.spec.method: r for r in store.load()}
    assert len(store.load()) == 2
    assert by_method["mlp"].ok
    failed = by_method["kills_its_process"]
    assert failed.status == "failed"
    assert "died 2 times" in failed.error and "exit status 3" in failed.error and "max retries 1" in failed.error
    assert [r.spec.method for r in outcome.records if not r.ok] == ["kills_its_process"]


class _InterruptedAfter:
    """Wraps an executor and presses Ctrl-C after ``count`` records."""

    def __init__(self, inner: Executor, count: int) -> None:
        self.inner, self.count = inner, count

    def run(self, specs: Sequence[RunSpec], context: DataContext) -> Generator[RunRecord, None, None]:
        records = self.inner.run(specs, context)
        try:
            for done, record in enumerate(records, start=1):
                yield record
                if done == self.count:
                    raise KeyboardInterrupt
        finally:
            records.close()


def test_an_interrupted_grid_keeps_its_records_stops_its_workers_and_resumes(tmp_path: Path) -> None:
    context = DataContext(None, tmp_path / "cache")
    store = RecordStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_grid(grid_specs(), store, context, progress=False, executor=_InterruptedAfter(LocalPoolExecutor(jobs=2), count=1))
    assert len(store.load()) == 1
    assert [p for p in multiprocessing.active_children() if p.name == "mmhn-run-worker"] == []

    resumed = run_grid(grid_specs(), store, context, progress=False, executor=LocalPoolExecutor(jobs=2))
    assert len(resumed.skipped) == 1 and len(resumed.records) == 3
    assert sorted(r.spec_id for r in store.load()) == sorted(s.spec_id for s in grid_specs())


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "--jobs '0' is not a positive integer"),
    (["--jobs", "4096"], "threads, more than the"),
    (["--jobs", "1", "--threads-per-run", "4096"], "use at most --jobs"),
    (["--cpus-per-run", "2"], "--cpus-per-run only applies with --ray"),
    (["--jobs", "2", "--ray", "auto"], "--jobs and --ray exclude each other"),
    (["--max-retries", "-1"], "--max-retries '-1' is not a whole number"),
])
def test_bad_execution_options_are_one_line_errors(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--methods", "mlp", "--datasets", "synthetic", "--out", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cpus, threads, expected", [(8, 1, 8), (8, 3, 2), (3, 2, 1), (1, 1, 1)])
def test_jobs_auto_fills_the_cpus_at_the_threads_of_one_run(cpus: int, threads: int, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from benchmark import execution_options

    monkeypatch.setattr(execution_options, "available_cpus", lambda: cpus)
    parser = argparse.ArgumentParser()
    execution_options.add_execution_arguments(parser)
    executor = execution_options.executor_from_args(parser.parse_args(["--jobs", "auto", "--threads-per-run", str(threads)]))
    jobs = executor.jobs if isinstance(executor, LocalPoolExecutor) else 1
    assert jobs == expected and executor.threads_per_run == threads
    assert isinstance(executor, InProcessExecutor) == (expected == 1)


def test_several_workers_find_the_features_already_encoded(monkeypatch, tmp_path: Path) -> None:
    # The parent encodes before the workers start, so they do not all encode the same posters.
    warmed = []
    monkeypatch.setattr("benchmark.local_pool.warm_feature_caches", lambda specs, context: warmed.append(len(specs)))
    specs = grid_specs()[:2]
    records = list(LocalPoolExecutor(jobs=2).run(specs, DataContext(None, tmp_path)))
    assert len(records) == 2 and warmed == [2]
    assert list(LocalPoolExecutor(jobs=2).run(specs[:1], DataContext(None, tmp_path))) and warmed == [2]  # one worker: no need
