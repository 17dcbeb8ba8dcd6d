"""--ray: on a real Ray cluster (started here, on 127.0.0.1) a grid gives the local records;
a dead worker costs no run and no duplicate; retries are bounded; a grid resumes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from benchmark.cli import main
from benchmark.environment import code_version
from benchmark.grid import InProcessExecutor, plan_grid, run_grid
from benchmark.protocol import Protocol
from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.spec import RunSpec
from datasets.adapter import DataContext
from tests.ray_cluster import RAY_ENV, LocalRayCluster, free_port
from tests.test_local_pool import DIED_MARKER, KILLERS, as_method, outcome_by_spec

# Before Ray is imported: it reads whether multi-node is on when imported, and with it on it
# swaps 127.0.0.1 for the machine's network address, where the loopback-only head is not.
os.environ.update(RAY_ENV)
if os.environ.get("CI") == "true":  # CI installs everything: a missing Ray there is a failure
    import ray
else:
    ray = pytest.importorskip("ray")

from benchmark.ray_executor import RayExecutor  # noqa: E402 - after the optional import

TINY = Protocol("tiny", seeds=2, max_epochs=4, patience=4, description="test")
LONGER = Protocol("longer", seeds=2, max_epochs=25, patience=25, description="test: runs long enough to be caught running")
SMALL = {"synthetic": {"scale": 0.1}}


def specs(protocol: Protocol = TINY) -> list[RunSpec]:
    return plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], protocol, seeds=2, device="cpu", dataset_options=SMALL)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    saved = {name: os.environ.get(name) for name in RAY_ENV}
    os.environ.update(RAY_ENV)
    constants = ray._private.ray_constants
    multi_node = constants.ENABLE_RAY_CLUSTER
    constants.ENABLE_RAY_CLUSTER = False  # in case Ray was imported before this module set RAY_ENV
    started = LocalRayCluster(num_cpus=2)
    try:
        started.start()
        RayExecutor(started.address).connect()  # ships this checkout to the workers
        yield started
    finally:
        if ray.is_initialized():
            ray.shutdown()
        started.stop()
        constants.ENABLE_RAY_CLUSTER = multi_node
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert started.processes() == []  # nothing of the cluster is left running


def local_records(grid: list[RunSpec], tmp_path: Path) -> list[RunRecord]:
    store = RecordStore(tmp_path / "local")
    return run_grid(grid, store, DataContext(None, tmp_path / "cache"), progress=False, executor=InProcessExecutor(threads_per_run=1)).records


def test_a_grid_on_ray_gives_the_local_records_and_resumes(cluster: LocalRayCluster, tmp_path: Path) -> None:
    grid = specs()
    context = DataContext(None, tmp_path / "cache")
    store = RecordStore(tmp_path / "ray")
    # An "interrupted" grid: the first run finished before, here.
    run_grid(grid[:1], store, context, progress=False, executor=InProcessExecutor(threads_per_run=1))

    outcome = run_grid(grid, store, context, progress=False, executor=RayExecutor(cluster.address))

    assert [s.spec_id for s in outcome.skipped] == [grid[0].spec_id]
    assert len(outcome.records) == 3 and all(r.ok for r in outcome.records)
    assert sorted(r.spec_id for r in store.load()) == sorted(s.spec_id for s in grid)  # each once
    assert outcome_by_spec(store.load()) == outcome_by_spec(local_records(grid, tmp_path))
    assert {r.versions["code"] for r in store.load()} == {code_version()}  # the driver's, not "unknown"


def test_a_task_whose_worker_dies_is_retried_and_recorded_once(cluster: LocalRayCluster, tmp_path: Path) -> None:
    context = DataContext(None, tmp_path / "cache")
    mlp = specs()[0]
    dies_once = as_method(mlp, "kills_its_process_once")
    store = RecordStore(tmp_path / "ray")
    outcome = run_grid([dies_once], store, context, progress=False,
                       executor=RayExecutor(cluster.address, max_retries=2, preload_modules=KILLERS))

    assert (tmp_path / "cache" / DIED_MARKER).exists()
    assert [(r.spec_id, r.status) for r in store.load()] == [(dies_once.spec_id, "ok")]
    assert outcome.records[0].metrics == local_records([mlp], tmp_path)[0].metrics


def test_a_task_that_always_kills_its_worker_is_recorded_failed_after_the_retries(cluster: LocalRayCluster, tmp_path: Path) -> None:
    killer = as_method(specs()[0], "kills_its_process")
    store = RecordStore(tmp_path / "ray")
    run_grid([killer], store, DataContext(None, tmp_path / "cache"), progress=False,
             executor=RayExecutor(cluster.address, max_retries=1, preload_modules=KILLERS))

    [record] = store.load()
    assert record.status == "failed"
    assert "its Ray task failed" in record.error and "WorkerCrashedError" in record.error


def test_a_worker_killed_mid_grid_loses_and_duplicates_no_run(cluster: LocalRayCluster, tmp_path: Path) -> None:
    grid = specs(LONGER)
    killed: list[int] = []
    done = threading.Event()

    def kill_one_busy_worker() -> None:  # as the kernel's OOM killer would, from outside
        while not done.is_set() and not killed:
            for worker in cluster.busy_workers("_run_task"):
                worker.kill()
                killed.append(worker.pid)
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_busy_worker, daemon=True)
    killer.start()
    store = RecordStore(tmp_path / "ray")
    try:
        outcome = run_grid(grid, store, DataContext(None, tmp_path / "cache"), progress=False,
                           executor=RayExecutor(cluster.address, max_retries=2))
    finally:
        done.set()
        killer.join()

    assert killed, "no worker was caught running a task: the test proved nothing"
    assert all(r.ok for r in outcome.records)
    assert sorted(r.spec_id for r in store.load()) == sorted(s.spec_id for s in grid)  # none lost, none twice
    assert outcome_by_spec(store.load()) == outcome_by_spec(local_records(grid, tmp_path))


def test_an_address_where_no_cluster_listens_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    code = main(["--methods", "mlp", "--datasets", "synthetic", "--out", str(tmp_path / "out"), "--ray", address])
    err = capsys.readouterr().err
    assert code == 2 and f"nothing answers at {address}" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
