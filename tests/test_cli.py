"""The command line: bad input fails in one line with exit 2; grids run, report and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.record_store import RecordStore
from tests.conftest import REPO_ROOT

SMALL = ["--dataset-option", "synthetic:scale=0.2", "--no-progress"]


def run_cli(*args: str, cwd: Path = REPO_ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(REPO_ROOT / "run_all.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--methods", "mlp,gcn"], "unknown method 'gcn'; valid: all, "),
        (["--datasets", "cora"], "unknown dataset 'cora'; valid: all, "),
        (["--seeds", "ten"], "--seeds 'ten' is not a positive integer"),
        (["--seeds", "0"], "--seeds '0' is not a positive integer"),
        (["--seeds", "-3"], "--seeds '-3' is not a positive integer"),
        (["--protocol", "full"], "unknown protocol 'full'; valid: quick, standard"),
        (["--device", "cuda:7"], "device 'cuda:7' does not exist on this machine"),
        (["--device", "tpu"], "unknown device 'tpu'; valid: auto, cpu, cuda, cuda:<index>"),
        (["--dataset-option", "synthetic:scale"], "expected DATASET:KEY=VALUE"),
        (["--dataset-option", "synthetic:colour=red"], "unknown option(s) colour; valid: seed, scale"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run_all.py: error: ") and message in lines[0]
    assert not out.exists()


def test_bad_input_through_the_real_entry_point_exits_2() -> None:
    result = run_cli("--methods", "nope")
    assert result.returncode == 2 and result.stderr.startswith("run_all.py: error: unknown method 'nope'")


def test_output_folder_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "results"
    target.write_text("not a folder")
    result = run_cli("--out", str(target))
    assert result.returncode == 2
    assert f"--out {str(target)!r}: {str(target)!r} is a file, not a folder" in result.stderr
    assert target.read_text() == "not a folder"


def test_list_names_every_method_and_dataset() -> None:
    from datasets.adapter import DATASETS
    from methods.method import METHODS

    result = run_cli("--list")
    assert result.returncode == 0
    for name in METHODS.names() + DATASETS.names():
        assert name in result.stdout


def test_quick_run_writes_records_and_a_leaderboard_with_both_methods(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run_cli("--methods", "mlp,early_fusion_hgt", "--datasets", "synthetic", "--protocol", "quick", "--seeds", "2",
                     "--out", str(out), *SMALL)
    assert result.returncode == 0, result.stderr
    records = [r.to_json() for r in RecordStore(out).load()]
    assert [p.relative_to(out).as_posix() for p in RecordStore(out).files()] == ["records/synthetic/000.jsonl"]
    assert sorted((r["spec"]["method"], r["spec"]["seed"]) for r in records) == [
        ("early_fusion_hgt", 0), ("early_fusion_hgt", 1), ("mlp", 0), ("mlp", 1)]
    assert all(r["status"] == "ok" for r in records)
    leaderboard = (out / "leaderboard.md").read_text()
    lines = leaderboard.splitlines()
    section = lines.index("### synthetic (scale=0.2) (split `random_20_10_70`, protocol `quick`, device cpu)")
    table = [line for line in lines[section + 1:section + 6] if line.startswith("| ")]
    assert table[0].split("|")[1].strip() == "method"
    assert sorted(line.split("|")[1].strip(" *") for line in table[1:]) == ["early_fusion_hgt", "mlp"]
    assert all(line.split("|")[3].strip() == "2" for line in table[1:])  # n seeds
    assert "ddof = 1" in leaderboard
    assert "plan: 4 runs; 4 to train, 0 reused from" in result.stdout
    assert "4 runs done (0 failed), 0 reused" in result.stdout
    (invocation,) = json.loads((out / "manifest.json").read_text())["invocations"]
    assert invocation["status"] == "completed" and invocation["runs_recorded"] == 4 and "--seeds" in invocation["command"]

    # --report rebuilds the same leaderboard from the records alone
    (out / "leaderboard.md").unlink()
    assert run_cli("--report", "--out", str(out)).returncode == 0
    assert (out / "leaderboard.md").read_text() == leaderboard

    # the same command again finds everything finished, says so, and writes nothing at all
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    again = run_cli("--methods", "mlp,early_fusion_hgt", "--datasets", "synthetic", "--protocol", "quick", "--seeds", "2",
                    "--out", str(out), *SMALL)
    assert again.returncode == 0, again.stderr
    assert "plan: 4 runs; 0 to train, 4 reused from" in again.stdout
    assert "nothing to train: every run already has a current record" in again.stdout and "--out DIR" in again.stdout
    assert "0 runs trained, 4 reused" in again.stdout and "early_fusion_hgt" in again.stdout  # the table is still shown
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_resume_after_kill_9_redoes_nothing_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["--methods", "early_fusion_hgt,mlp", "--datasets", "synthetic", "--protocol", "quick", "--seeds", "3", "--out", str(out), *SMALL]
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "run_all.py"), *args], cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RecordStore(out)
    deadline = time.time() + 900  # generous: CI machines can be heavily loaded
    while time.time() < deadline and process.poll() is None and not store.count():
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # mid-grid: the first run's record is written, others are not
    process.wait()
    assert store.exists(), "the grid wrote no record before the deadline"
    before = [r.to_json() for r in store.load()]
    assert 1 <= len(before) < 6

    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert f"{6 - len(before)} runs done (0 failed), {len(before)} reused" in result.stdout
    after = [r.to_json() for r in store.load()]
    ids = [r["spec_id"] for r in after]
    assert len(ids) == len(set(ids)) == 6
    assert after[: len(before)] == before  # the earlier records are untouched
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["status"] for i in manifest["invocations"]] == ["interrupted", "completed"]
    assert manifest["interrupted_and_resumed"] is True
    assert manifest["invocations"][0]["runs_recorded"] == len(before)


@pytest.mark.parametrize(("flag", "bars"), [([], True), (["--no-progress"], False)])
def test_no_progress_also_silences_the_feature_encoders(flag: list[str], bars: bool) -> None:
    # The encoders read DataContext.progress: a logged grid that encodes posters first
    # should not fill its log with bars.
    from benchmark.cli import build_parser, parse_grid_args

    grid = parse_grid_args(build_parser().parse_args(["--datasets", "synthetic", "--jobs", "1", *flag]))
    assert grid.context.progress is bars and grid.progress is bars
