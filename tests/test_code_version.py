"""The code version a record carries: the commit, marked ``+dirty`` only when code changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmark.environment import code_version


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_results_written_by_a_grid_do_not_mark_the_code_modified(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MMHN_CODE_VERSION", raising=False)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "manifest.json").write_text("{}\n")
    (tmp_path / "model.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    commit = _git(tmp_path, "rev-parse", "--short=12", "HEAD")
    assert code_version(tmp_path) == commit

    (tmp_path / "results" / "manifest.json").write_text('{"invocations": []}\n')  # what every grid does as it starts
    (tmp_path / "notes.txt").write_text("untracked files are not the code either\n")
    code_version.cache_clear()
    assert code_version(tmp_path) == commit

    (tmp_path / "model.py").write_text("x = 2\n")
    code_version.cache_clear()
    assert code_version(tmp_path) == commit + "+dirty"
    code_version.cache_clear()
