"""The manifest: one entry per invocation, interruptions detected, records summarised, written atomically."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.environment import cpu_model, device_name
from benchmark.manifest import MANIFEST_FILE, InvocationLog, hardware, records_summary, refresh_records_summary
from benchmark.record_store import RecordStore
from tests.record_factory import make_record


def manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST_FILE).read_text())


def test_a_completed_invocation_records_its_command_counts_and_wall_time(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.append(make_record("mlp", "toy", 0, 0.5))
    with InvocationLog(tmp_path, ["run_all.py", "--methods", "mlp"], store) as log:
        assert manifest(tmp_path)["invocations"][0]["status"] == "running"  # visible while it runs
        log.planned_runs(3, 1)
        assert manifest(tmp_path)["invocations"][0]["runs_planned"] == 3  # on disk before any run: survives a kill -9
        store.append(make_record("mlp", "toy", 1, 0.5))
        store.append(make_record("mlp", "toy", 2, 0.5))
    (entry,) = manifest(tmp_path)["invocations"]
    assert entry["status"] == "completed" and entry["command"] == ["run_all.py", "--methods", "mlp"]
    assert (entry["runs_planned"], entry["runs_already_finished"], entry["runs_recorded"]) == (3, 1, 2)
    assert entry["wall_seconds"] >= 0 and entry["finished_at"] >= entry["started_at"]
    assert "torch" in entry["packages"] and entry["hardware"]["logical_cpus"] >= 1
    assert not list(tmp_path.glob("*.tmp"))


def test_ctrl_c_is_recorded_as_interrupted_and_the_next_run_as_a_resume(tmp_path: Path) -> None:
    records = RecordStore(tmp_path)
    with pytest.raises(KeyboardInterrupt), InvocationLog(tmp_path, ["run_all.py"], records):
        raise KeyboardInterrupt
    assert manifest(tmp_path)["invocations"][0]["status"] == "interrupted"
    with InvocationLog(tmp_path, ["run_all.py"], records):
        pass
    data = manifest(tmp_path)
    assert data["interrupted_and_resumed"] is True and data["invocations"][1]["resumes_interrupted"] is True


def test_an_invocation_killed_outright_is_marked_interrupted_by_the_next(tmp_path: Path) -> None:
    records = RecordStore(tmp_path)
    with InvocationLog(tmp_path, ["run_all.py"], records) as log:
        log.planned_runs(5, 0)
    data = manifest(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    data["invocations"][0].update(status="running", pid=int(dead.stdout), finished_at=None)  # as kill -9 leaves it
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(data))
    records.append(make_record("mlp", "toy", 0, 0.5))  # the killed run got one record out
    with InvocationLog(tmp_path, ["run_all.py"], records):
        pass
    first, second = manifest(tmp_path)["invocations"]
    assert first["status"] == "interrupted" and first["runs_recorded"] == 1 and first["runs_planned"] == 5
    assert second["status"] == "completed" and manifest(tmp_path)["interrupted_and_resumed"] is True


def test_records_summary_lists_seeds_splits_and_versions() -> None:
    records = [make_record("mlp", "toy", s, 0.5) for s in (0, 1, 2)] + [make_record("gnn", "toy", 0, 0.6, code="def456")]
    records.append(make_record("mlp", "toy", 3, 0.5, split="other"))
    summary = records_summary(records)
    assert summary["runs"] == 5 and summary["ok"] == 5
    assert summary["seeds"] == {"toy": [0, 1, 2, 3]}
    assert summary["splits"] == [
        {"dataset": "toy", "split": "fixed", "checksums": ["toy-fixed-checksum"], "consistent": True},
        {"dataset": "toy", "split": "other", "checksums": ["toy-other-checksum"], "consistent": True},
    ]
    assert summary["code_versions"] == {"abc123": 4, "def456": 1}
    assert summary["package_versions"] == {"torch": {"2.13.0": 5}}


def test_refreshing_the_summary_keeps_the_invocations(tmp_path: Path) -> None:
    with InvocationLog(tmp_path, ["run_all.py"], RecordStore(tmp_path)):
        pass
    refresh_records_summary(tmp_path, [make_record("mlp", "toy", 0, 0.5)])
    data = manifest(tmp_path)
    assert len(data["invocations"]) == 1 and data["records"]["runs"] == 1


def test_the_hardware_names_the_cpu_model_so_tables_never_mix_machines_unseen() -> None:
    intel = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nprocessor\t: 1\n"
    assert cpu_model(intel) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    # no model line (some ARM kernels): platform's answer, never an empty name
    assert cpu_model("processor\t: 0\nvendor_id\t: AuthenticAMD\n") == (platform.processor() or platform.machine()) != ""
    assert cpu_model("model name\t:\nmodel name\t: AMD EPYC\n") == "AMD EPYC"  # an empty value is skipped
    assert hardware()["cpu_model"] == cpu_model()  # the manifest's hardware and every CPU record's device name
    assert device_name("cpu").startswith(f"cpu ({cpu_model()}, ")
