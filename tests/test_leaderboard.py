"""The leaderboard page: rebuilt byte for byte from the records, and what its tables say."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.record_store import RecordStore
from benchmark.report import render_leaderboard
from benchmark.rows import leaderboard_rows, setting_of
from benchmark.statistics import summarize
from tests.record_factory import SpecWithSetting, make_record

REPO_ROOT = Path(__file__).resolve().parent.parent


def fixture_records() -> list:
    """Two datasets, five methods (two of them ablations), a failed seed, a tuned row, a missing seed."""
    rng = random.Random(3)
    records = []
    plan = {"mlp": (0.55, 0.001), "early_fusion_hgt": (0.68, 0.02), "hgnn_ima": (0.72, 0.05),
            "hgnn_ima_no_alignment": (0.66, 0.05), "hgnn_ima_late": (0.695, 0.05)}
    for dataset in ("synthetic", "imdb_mm"):
        for method, (mean, cost) in plan.items():
            for seed in range(10):
                if (dataset, method, seed) == ("imdb_mm", "mlp", 4):
                    records.append(make_record(method, dataset, seed, 0.0, status="failed", seconds_per_epoch=cost))
                    continue
                records.append(make_record(method, dataset, seed, mean + rng.gauss(0, 0.01), seconds_per_epoch=cost * (1 + rng.random())))
        for seed in range(9):  # a tuned row with one seed short
            records.append(make_record("early_fusion_hgt", dataset, seed, 0.69 + rng.gauss(0, 0.01), config_source="tuned (20 trials)",
                                       hparams={"lr": 0.003}))
    return records


def test_report_rebuilds_the_leaderboard_byte_for_byte_from_disk(tmp_path: Path) -> None:
    records = fixture_records()
    rendered = render_leaderboard(records)
    store = RecordStore(tmp_path)
    for record in records:
        store.append(record)
    assert render_leaderboard(store.load()) == rendered  # JSON round trip keeps every float
    shuffled = list(store.load())
    random.Random(0).shuffle(shuffled)
    assert render_leaderboard(shuffled) == rendered  # no dependence on record order
    assert main(["--report", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "leaderboard.md").read_text() == rendered
    assert (tmp_path / "pareto_synthetic.png").stat().st_size > 0 and (tmp_path / "pareto_imdb_mm.png").exists()
    assert main(["--report", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "leaderboard.md").read_text() == rendered  # and again


def test_report_removes_accuracy_cost_figures_it_no_longer_makes(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    for record in fixture_records():
        store.append(record)
    (tmp_path / "pareto_a_dataset_since_split.png").write_bytes(b"old figure")
    (tmp_path / "my_own_plot.png").write_bytes(b"not the report's")
    assert main(["--report", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "pareto_a_dataset_since_split.png").exists()
    assert (tmp_path / "my_own_plot.png").exists() and (tmp_path / "pareto_synthetic.png").exists()


def test_the_committed_leaderboard_is_what_report_makes_of_the_committed_records(tmp_path: Path) -> None:
    records, leaderboard = REPO_ROOT / "results" / "records", REPO_ROOT / "results" / "leaderboard.md"
    assert not (REPO_ROOT / "results" / "records.jsonl").exists(), "the committed records are sharded under results/records/"
    shutil.copytree(records, tmp_path / "records")
    assert main(["--report", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "leaderboard.md").read_text() == leaderboard.read_text()


def table(text: str, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading``."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return [rows[0]] + rows[2:]  # header, then the body without the |---| line


def test_section_table_marks_tie_group_config_and_failures() -> None:
    text = render_leaderboard(fixture_records())
    rows = table(text, "### imdb_mm (split `fixed`, protocol `standard`, device cpu)")
    header = rows[0]
    body = {(r[0].strip("*"), r[header.index("config")]): dict(zip(header, r)) for r in rows[1:]}
    assert header[:3] == ["method", "Macro-F1 (test)", "n"]
    best, mlp = body[("hgnn_ima", "defaults")], body[("mlp", "defaults")]
    assert best["Δ to best"] == "best" and best["rank"] == "**1**"
    assert mlp["rank"] != "**1**" and mlp["failed"] == "1" and mlp["n"] == "9"
    assert not mlp["method"].startswith("**")
    assert body[("early_fusion_hgt", "tuned (20 trials)")]["n"] == "9"
    assert len(body) == 6
    assert "mlp: seed(s) 4 failed" in text
    assert "paired on the 9 seeds both rows have (0–8)" in text  # the tuned row lacks seed 9
    # every row of the tie group is bold, every other row is not
    for row in body.values():
        assert row["method"].startswith("**") == (row["rank"] == "**1**")


def test_ablation_table_compares_variants_with_the_full_model() -> None:
    text = render_leaderboard(fixture_records())
    rows = table(text, "### synthetic (split `fixed`, protocol `standard`, device cpu), defaults")
    variants = [r[0] for r in rows[1:]]
    assert variants == ["hgnn_ima (full)", "hgnn_ima_late", "hgnn_ima_no_alignment"]
    no_alignment = dict(zip(rows[0], rows[3]))
    assert no_alignment["n pairs"] == "10" and no_alignment["Δ to full"].startswith("**-")  # 4 points worse on 10 seeds


def test_records_of_other_settings_stay_out_of_the_main_tables() -> None:
    spec = SpecWithSetting(method="mlp", dataset="synthetic", split="fixed", seed=0, hparams={"lr": 0.01},
                           max_epochs=200, patience=30, extra="some later setting")
    other = make_record("mlp", "synthetic", 0, 0.1, spec=spec)
    assert setting_of(other.spec) == 'extra="some later setting"'
    plain = fixture_records()
    assert leaderboard_rows(plain + [other]) == leaderboard_rows(plain)
    assert "(1 record of other settings stored but not summarised here)" in render_leaderboard(plain + [other])


def test_a_method_that_failed_on_every_seed_is_listed_not_hidden() -> None:
    broken = [make_record("magnn", "synthetic", seed, 0.0, status="failed") for seed in range(3)]
    text = render_leaderboard(fixture_records() + broken)
    assert ("- magnn (defaults) on synthetic (split `fixed`, protocol `standard`, device cpu): seed(s) 0–2 failed; "
            "first error: `RuntimeError: boom`") in text
