"""What the manifest and the tuned files store: paths relative to the results folder, never this machine's."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.manifest import InvocationLog
from benchmark.portable_paths import portable_command, portable_storage
from benchmark.record_store import RecordStore

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_absolute_paths_in_a_command_become_relative_to_the_results_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    command = ["run_all.py", "--out", str(out), "--data-root", str(tmp_path / "data"), f"--cache-dir={tmp_path}/cache", "--seeds", "3"]
    assert portable_command(command, out) == ["run_all.py", "--out", ".", "--data-root", "../data", "--cache-dir=../cache", "--seeds", "3"]
    assert portable_command(["run_all.py", "--out", "results"], out) == ["run_all.py", "--out", "results"]  # relative: as typed


def test_a_local_tuning_storage_is_stored_relative_and_a_server_url_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert portable_storage(f"{out}/tuning/optuna-journal.log", out) == "tuning/optuna-journal.log"
    assert portable_storage(f"sqlite:///{out}/tuning/optuna.db", out) == "sqlite:///tuning/optuna.db"
    assert portable_storage("postgresql://u:***@127.0.0.1:5432/db", out) == "postgresql://u:***@127.0.0.1:5432/db"


def test_the_manifest_logs_the_command_without_absolute_paths(tmp_path: Path) -> None:
    out = tmp_path / "results"
    with InvocationLog(out, ["run_all.py", "--out", str(out)], RecordStore(out)):
        pass
    (entry,) = json.loads((out / "manifest.json").read_text())["invocations"]
    assert entry["command"] == ["run_all.py", "--out", "."]


def test_no_committed_manifest_or_tuned_file_holds_an_absolute_path() -> None:
    files = [REPO_ROOT / "results" / "manifest.json", *sorted((REPO_ROOT / "results" / "tuned").glob("*.json"))]
    for path in files:
        text = path.read_text()
        for word in json.dumps(json.loads(text)).replace('"', " ").split():
            assert not word.startswith(("/work/", "/tmp/", "/home/", "/root/", "sqlite:////")), f"{path.name}: {word}"
