"""The README's results block is copied from the generated leaderboard by a script, never by hand."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.report import HEADLINE_END, HEADLINE_START, render_leaderboard
from benchmark.scripts.update_readme_results import README_END, README_START, main
from tests.record_factory import make_record

REPO_ROOT = Path(__file__).resolve().parent.parent


def results_folder(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    results.mkdir()
    records = [make_record(m, "toy", s, v + 0.001 * s) for m, v in (("han", 0.7), ("mlp", 0.6)) for s in range(3)]
    (results / "leaderboard.md").write_text(render_leaderboard(records))
    (results / "pareto_toy.png").write_bytes(b"png")
    manifest = {"records": {"last_finished_at": "2025-03-02T11:00:00+00:00"}, "interrupted_and_resumed": True, "invocations": [
        {"command": ["run_all.py", "--protocol", "standard"], "status": "interrupted"},
        {"command": ["run_all.py", "--protocol", "standard"], "status": "completed"}]}
    (results / "manifest.json").write_text(json.dumps(manifest))
    return results


def test_headline_date_command_and_figures_are_copied_between_the_markers(tmp_path: Path) -> None:
    results = results_folder(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n\n{README_START} -->\nold numbers\n{README_END}\n\nafter\n")
    assert main(["--results", str(results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    leaderboard = (results / "leaderboard.md").read_text()
    headline = leaderboard.split(HEADLINE_START)[1].split(HEADLINE_END)[0].strip("\n")
    assert headline in text and "old numbers" not in text
    assert text.startswith("# title\n\nbefore\n\n") and text.endswith(f"{README_END}\n\nafter\n")
    assert "last run on 2025-03-02" in text
    assert "- `python run_all.py --protocol standard` (1 completed, 1 interrupted)" in text
    assert "![pareto_toy](results/pareto_toy.png)" in text
    # idempotent, and --check agrees
    assert main(["--results", str(results), "--readme", str(readme)]) == 0 and readme.read_text() == text
    assert main(["--results", str(results), "--readme", str(readme), "--check"]) == 0


def test_check_fails_on_a_stale_readme_and_missing_markers_are_an_error(tmp_path: Path) -> None:
    results = results_folder(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START} -->\nhand-edited numbers\n{README_END}\n")
    assert main(["--results", str(results), "--readme", str(readme), "--check"]) == 1
    assert "hand-edited numbers" in readme.read_text()  # --check changes nothing
    readme.write_text("no markers\n")
    assert main(["--results", str(results), "--readme", str(readme)]) == 2


def test_the_repository_readme_has_exactly_one_results_block() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    assert text.count(README_START) == 1 and text.count(README_END) == 1
