"""Workers sharing one study survive a worker killed with ``kill -9`` mid-trial.

Against real services: a PostgreSQL server (``.ci/start_postgres.sh``; its URL in
``MMHN_TEST_POSTGRES_URL``) and a journal file shared by local worker processes. The killed
trial is marked failed by a surviving worker once its heartbeat is older than the grace
period, re-queued with the same parameters, and run once; the study ends with exactly the
requested number of complete trials. Under CI (``MMHN_REQUIRE_SERVICES=1``) a missing
server fails these tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from benchmark.tuning import ERROR_ATTR, WORKER_ATTR
from benchmark.tuning_storage import StorageError, open_storage, parse_location
from tests.conftest import REPO_ROOT

N_TRIALS = 4
# Trials of ~1 s (mlp, 600 items... here 300, up to 50 epochs, 2 seeds), so a kill lands mid-trial;
# no pruning, so every counted trial completes; heartbeats every second, stale after 3 s.
ARGS = ["--tune", "mlp", "--datasets", "synthetic", "--dataset-option", "synthetic:scale=0.1", "--protocol", "quick",
        "--n-trials", str(N_TRIALS), "--tuning-seeds", "2", "--pruner", "none", "--heartbeat", "1", "--no-progress"]
# Two workers on one host share its cores instead of each spinning up every core.
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def _service_missing(reason: str) -> None:
    if os.environ.get("MMHN_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = os.environ.get("MMHN_TEST_POSTGRES_URL")
    if not url:
        _service_missing("no PostgreSQL server for the tests: start one with url=$(.ci/start_postgres.sh) and export MMHN_TEST_POSTGRES_URL=$url")
    try:
        open_storage(parse_location(url), 1)  # type: ignore[arg-type]
    except StorageError as error:
        _service_missing(f"MMHN_TEST_POSTGRES_URL is set but unusable: {error}")
    return url  # type: ignore[return-value]


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "run_all.py"), *args], cwd=REPO_ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _pid_of(trial: FrozenTrial) -> int | None:
    worker = trial.user_attrs.get(WORKER_ATTR)
    return int(worker.rsplit(":", 1)[1]) if worker else None


def _kill_a_worker_mid_trial(storage: BaseStorage, study_name: str, candidates: set[int] | None, timeout_s: float = 240) -> FrozenTrial:
    """Wait until a trial of one of the candidate processes (any, if None) has reported, then kill -9 it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            study_id = storage.get_study_id_from_name(study_name)
        except KeyError:
            time.sleep(0.1)
            continue
        for trial in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            pid = _pid_of(trial)
            if pid is not None and (candidates is None or pid in candidates) and trial.intermediate_values:
                os.kill(pid, signal.SIGKILL)
                return trial
        time.sleep(0.02)
    raise AssertionError(f"no running trial of {candidates} within {timeout_s} s")


def _assert_survived(storage: BaseStorage, study_name: str, victim: FrozenTrial) -> list[FrozenTrial]:
    trials = storage.get_all_trials(storage.get_study_id_from_name(study_name), deepcopy=True)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == N_TRIALS  # the budget is met exactly: nothing counted twice, nothing missing
    killed = next(t for t in trials if t.number == victim.number)
    assert killed.state == TrialState.FAIL and ERROR_ATTR not in killed.user_attrs  # lost, not a failure of the method
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed.params and _pid_of(retries[0]) != _pid_of(killed)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    return trials


def test_two_hosts_share_a_postgres_study_and_one_is_killed_mid_trial(postgres_url: str, tmp_path: Path) -> None:
    name = f"kill-test-{uuid.uuid4().hex[:8]}"
    common = [*ARGS, "--storage", postgres_url, "--study-name", name]
    first, second = _start(*common, "--out", str(tmp_path / "a")), _start(*common, "--out", str(tmp_path / "b"))
    storage = open_storage(parse_location(postgres_url), 1)
    try:
        victim = _kill_a_worker_mid_trial(storage, name, {first.pid})
        output, _ = second.communicate(timeout=300)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    first.wait()
    assert second.returncode == 0, output
    trials = _assert_survived(storage, name, victim)
    tuned = json.loads((tmp_path / "b" / "tuned" / "mlp__synthetic.json").read_text())
    assert tuned["trials"]["complete"] == N_TRIALS and tuned["trials"]["lost"] >= 1
    assert tuned["storage"] == postgres_url and tuned["study_name"] == name
    assert tuned["best_val_macro_f1"] == max(t.value for t in trials if t.state == TrialState.COMPLETE)


def test_local_workers_share_the_default_journal_file_and_one_is_killed_mid_trial(tmp_path: Path) -> None:
    out = tmp_path / "results"
    main = _start(*ARGS, "--workers", "2", "--out", str(out))
    journal = out / "tuning" / "optuna-journal.log"
    try:
        deadline = time.monotonic() + 120
        while not journal.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        storage = open_storage(parse_location(str(journal)), 1)
        victim = _kill_a_worker_mid_trial(storage, "mlp__synthetic[scale=0.1]__quick", None)
        output, _ = main.communicate(timeout=300)
    finally:
        if main.poll() is None:
            main.kill()
    assert main.returncode == 0, output
    assert "worker exited with status -9" in output
    _assert_survived(open_storage(parse_location(str(journal)), 1), "mlp__synthetic[scale=0.1]__quick", victim)
    tuned = json.loads((out / "tuned" / "mlp__synthetic.json").read_text())
    assert tuned["trials"]["complete"] == N_TRIALS and tuned["storage"] == "tuning/optuna-journal.log"  # relative to the results folder
