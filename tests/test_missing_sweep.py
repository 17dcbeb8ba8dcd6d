"""Missing-modality sweeps: which runs are planned, bad options fail in one line, and the CLI writes curves."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmark.cli import build_parser, parse_grid_args
from benchmark.grid import plan_grid
from benchmark.missing_sweep import DEFAULT_RATES, MissingSweep, plan_missing_sweep, sweep_from_args
from benchmark.protocol import PROTOCOLS
from benchmark.record_store import RecordStore
from datasets.missing import MissingSetting
from tests.test_cli import SMALL, run_cli
from tests.test_cli import test_bad_input_is_one_line_exit_2_and_writes_nothing as expect_usage_error


def modalities_of(dataset: str) -> tuple[str, ...]:
    return {"synthetic": ("text", "image")}[dataset]


def base(seeds: int = 2) -> list:
    return plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], PROTOCOLS["quick"], seeds, "cpu")


def test_the_default_sweep_covers_every_modality_setting_and_rate_once() -> None:
    specs = plan_missing_sweep(base(), MissingSweep(), modalities_of)
    nonzero = len(DEFAULT_RATES) - 1
    assert len(specs) == 2 * 2 * (1 + 2 * 2 * nonzero)  # methods x seeds x (plain + modalities x settings x rates)
    assert len({s.spec_id for s in specs}) == len(specs)
    plain = [s for s in specs if not s.missing.active]
    assert {s.spec_id for s in plain} == {s.spec_id for s in base()}  # r = 0 is the ordinary run, shared with the leaderboard
    swept = {(s.missing.modality, s.missing.setting, s.missing.rate) for s in specs if s.missing.active}
    assert swept == {(m, st, r) for m in ("text", "image") for st in ("train_test", "test_only") for r in DEFAULT_RATES if r > 0}
    assert {s.missing.mechanism for s in specs if s.missing.active} == {"mcar"}
    # seed by seed: every run of seed 0 before any run of seed 1
    seeds = [s.seed for s in specs]
    assert seeds == sorted(seeds)
    # within a seed, point by point: both methods at one point before the next point, so the
    # test_only points sharing one method's trained model are never neighbours
    points = [(s.seed, s.missing) for s in specs]
    assert all(points[i] == points[i + 1] for i in range(0, len(points), 2))
    assert all(specs[i].method == "mlp" and specs[i + 1].method == "early_fusion_hgt" for i in range(0, len(specs), 2))


def test_a_narrowed_sweep_plans_only_what_was_asked() -> None:
    sweep = MissingSweep(mechanism="degree", rates=(0.0, 0.5), modalities=("image",), settings=("test_only",))
    specs = plan_missing_sweep(base(seeds=1), sweep, modalities_of)
    assert [(s.method, s.missing) for s in specs] == [
        (m, setting) for setting in (MissingSetting(), MissingSetting("degree", "image", 0.5, "test_only")) for m in ("mlp", "early_fusion_hgt")
    ]


def test_a_modality_the_dataset_lacks_is_named() -> None:
    with pytest.raises(ValueError, match="dataset 'synthetic' has no modality 'audio'; valid: text, image"):
        plan_missing_sweep(base(), MissingSweep(modalities=("audio",)), modalities_of)


def test_parsed_rates_are_sorted_deduplicated_and_include_zero() -> None:
    args = build_parser().parse_args(["--missing", "sweep", "--missing-rates", "0.5, 0.1,0.5", "--missing-settings", "test_only"])
    assert sweep_from_args(args) == MissingSweep(rates=(0.0, 0.1, 0.5), settings=("test_only",))
    assert sweep_from_args(build_parser().parse_args([])) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--missing", "all"], "--missing 'all'; valid: none, sweep"),
        (["--missing-rates", "0.5"], "--missing-rates needs --missing sweep"),
        (["--missing", "sweep", "--missing-rates", "0.5,x"], "--missing-rates: 'x' is not a number"),
        (["--missing", "sweep", "--missing-rates", "1.5"], "--missing-rates: 1.5 is outside [0, 1]"),
        (["--missing", "sweep", "--missing-mechanism", "mnar"], "--missing-mechanism 'mnar'; valid: mcar, degree, two_hop, structural"),
        (["--missing", "sweep", "--missing-mechanism", "natural"], "--missing-mechanism natural has no rate to sweep"),
        (["--missing", "sweep", "--missing-settings", "train"], "unknown setting 'train'; valid: train_test, test_only"),
        (["--missing", "sweep", "--missing-modalities", "audio", "--datasets", "synthetic"], "dataset 'synthetic' has no modality 'audio'"),
    ],
)
def test_bad_sweep_options_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    expect_usage_error(tmp_path, capsys, args, message)


@pytest.mark.parametrize(("extra", "stores"), [
    ([], False),
    (["--missing", "sweep"], True),
    (["--missing", "sweep", "--missing-settings", "test_only"], True),
    (["--missing", "sweep", "--missing-settings", "train_test"], False),  # no point would load them
])
def test_plain_runs_store_their_weights_only_in_a_sweep_with_test_only_points(extra: list[str], stores: bool) -> None:
    args = build_parser().parse_args(["--methods", "mlp", "--datasets", "synthetic", *extra])
    assert parse_grid_args(args).context.store_plain_weights is stores


def test_a_tiny_sweep_writes_records_curve_csv_figure_and_leaderboard_section(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["--methods", "mlp", "--datasets", "synthetic", "--protocol", "quick", "--seeds", "2", "--out", str(out), "--missing", "sweep",
            "--missing-rates", "0.5", "--missing-modalities", "image", "--missing-settings", "test_only", *SMALL]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "4 runs done (0 failed), 0 reused" in result.stdout
    records = [r.to_json() for r in RecordStore(out).load()]
    by_rate: dict[float, list[float]] = {}
    for r in records:
        by_rate.setdefault(r["spec"]["missing"]["rate"], []).append(r["metrics"]["test_macro_f1"])
    assert {r["mask_checksum"] != "" for r in records if r["spec"]["missing"]["rate"] > 0} == {True}
    with (out / "robustness_curves.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["method"], row["modality"], row["setting"], float(row["rate"]), int(row["n_seeds"])) for row in rows] == [
        ("mlp", "image", "test_only", 0.0, 2), ("mlp", "image", "test_only", 0.5, 2)]
    for row in rows:
        assert float(row["macro_f1_mean"]) == pytest.approx(sum(by_rate[float(row["rate"])]) / 2, abs=1e-6)
    assert float(rows[1]["target_missing_fraction"]) > float(rows[0]["target_missing_fraction"]) > 0
    figure = out / "robustness_synthetic-scale=0.2_image_test_only_quick.png"
    assert figure.read_bytes()[:4] == b"\x89PNG"
    leaderboard = (out / "leaderboard.md").read_text()
    assert "## Robustness to missing modalities" in leaderboard and "| mlp " in leaderboard.split("## Robustness")[1]
    # --report rebuilds the leaderboard and the CSV from the records alone
    csv_text = (out / "robustness_curves.csv").read_text()
    (out / "robustness_curves.csv").unlink()
    assert run_cli("--report", "--out", str(out)).returncode == 0
    assert (out / "robustness_curves.csv").read_text() == csv_text
    assert (out / "leaderboard.md").read_text() == leaderboard
