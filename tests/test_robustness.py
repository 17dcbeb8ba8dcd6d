"""Robustness curves and summaries from records: hand-checkable numbers on a tiny grid."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from scipy import stats

from benchmark.record import RunCost, RunMetrics, RunRecord
from benchmark.report import render_leaderboard
from benchmark.robustness import curve_points, curve_runs, curve_rates, pending_rates, robustness_rows, t_interval, write_curve_csv
from benchmark.robustness_plot import figure_name, plot_curves, y_limits
from benchmark.spec import RunSpec
from tests.record_factory import current_versions
from datasets.missing import MissingSetting


def record(method: str, seed: int, f1: float, rate: float = 0.0, modality: str = "image", setting: str = "train_test",
           status: str = "ok") -> RunRecord:
    missing = MissingSetting("mcar", modality, rate, setting) if rate > 0 else MissingSetting()
    spec = RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=seed, hparams={}, max_epochs=200, patience=30,
                   missing=missing)
    metrics = RunMetrics(test_macro_f1=f1, test_micro_f1=f1 + 0.01, val_macro_f1=0.5, val_micro_f1=0.5, train_macro_f1=0.9)
    cost = RunCost(num_parameters=10, epochs_run=40, best_epoch=10, seconds_per_epoch=0.01, seconds_to_best=0.1, total_seconds=0.5,
                   peak_memory_mb=1.0, device_name="cpu")
    return RunRecord(spec=spec, spec_id=spec.spec_id, status=status, metrics=metrics if status == "ok" else None,
                     cost=cost if status == "ok" else None, target_missing={"image": 0.2 + 0.8 * rate, "text": 0.0},
                     number_versions=current_versions(method))


# Two methods, seeds 0 and 1, rates 0 / 0.5 / 0.9 of `image` in train_test. Method "han" also has
# seed 2 at r = 0 and 0.5 only (incomplete: left out), and a failed run (ignored).
GRID = [
    record("early_fusion_hgt", 0, 0.80), record("early_fusion_hgt", 1, 0.70),
    record("early_fusion_hgt", 0, 0.60, 0.5), record("early_fusion_hgt", 1, 0.50, 0.5),
    record("early_fusion_hgt", 0, 0.40, 0.9), record("early_fusion_hgt", 1, 0.30, 0.9),
    record("han", 0, 0.90), record("han", 1, 0.80), record("han", 2, 0.10),
    record("han", 0, 0.85, 0.5), record("han", 1, 0.75, 0.5), record("han", 2, 0.10, 0.5),
    record("han", 0, 0.35, 0.9), record("han", 1, 0.45, 0.9),
    record("han", 3, 0.99, 0.9, status="failed"),
]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_curve_csv_has_one_row_per_method_and_rate_over_complete_seeds(tmp_path: Path) -> None:
    rows = read_csv(write_curve_csv(curve_points(curve_runs(GRID)), tmp_path / "curves.csv"))
    assert [(r["method"], float(r["rate"])) for r in rows] == [("early_fusion_hgt", 0.0), ("early_fusion_hgt", 0.5), ("early_fusion_hgt", 0.9), ("han", 0.0), ("han", 0.5), ("han", 0.9)]
    assert {(r["dataset"], r["mechanism"], r["modality"], r["setting"]) for r in rows} == {("synthetic", "mcar", "image", "train_test")}
    a_half = rows[1]
    assert int(a_half["n_seeds"]) == 2
    assert float(a_half["macro_f1_mean"]) == pytest.approx(0.55, abs=1e-6)
    assert float(a_half["macro_f1_std"]) == pytest.approx(math.sqrt(0.005), abs=1e-6)  # ddof = 1: ((0.05²) * 2) / 1
    half_width = stats.t.ppf(0.975, 1) * math.sqrt(0.005) / math.sqrt(2)
    assert float(a_half["macro_f1_ci_low"]) == pytest.approx(0.55 - half_width, abs=1e-6)
    assert float(a_half["macro_f1_ci_high"]) == pytest.approx(0.55 + half_width, abs=1e-6)
    assert float(a_half["micro_f1_mean"]) == pytest.approx(0.56, abs=1e-6)
    assert float(a_half["target_missing_fraction"]) == pytest.approx(0.6, abs=1e-6)
    # b's seed 2 has no r = 0.9 run: it is left out of every point, so b's r = 0 mean is (0.9 + 0.8) / 2
    b_zero = rows[3]
    assert int(b_zero["n_seeds"]) == 2 and float(b_zero["macro_f1_mean"]) == pytest.approx(0.85, abs=1e-6)
    assert float(b_zero["target_missing_fraction"]) == pytest.approx(0.2, abs=1e-6)  # the natural missingness


def test_the_plain_runs_are_the_zero_point_of_every_curve() -> None:
    grid = GRID + [record("early_fusion_hgt", s, 0.65, 0.5, modality="text", setting="test_only") for s in (0, 1)]
    points = curve_points(curve_runs(grid))
    text = [p for p in points if p.key.modality == "text"]
    assert [(p.rate, round(p.macro_f1_mean, 6)) for p in text] == [(0.0, 0.75), (0.5, 0.65)]
    assert {p.key.setting for p in text} == {"test_only"}


def test_area_drop_and_ranks_are_computed_per_seed() -> None:
    rows = {r.method: r for r in robustness_rows(curve_runs(GRID))}
    # a: seed 0 curve (0.8, 0.6, 0.4) -> area 0.6; seed 1 (0.7, 0.5, 0.3) -> 0.5; drops 0.2 and 0.2
    assert rows["early_fusion_hgt"].area.mean == pytest.approx(0.55) and rows["early_fusion_hgt"].area.n == 2
    assert rows["early_fusion_hgt"].drop_at_half.mean == pytest.approx(0.2) and rows["early_fusion_hgt"].drop_at_half.std == pytest.approx(0.0, abs=1e-12)
    # b: seed 0 (0.9, 0.85, 0.35) -> 0.7; seed 1 (0.8, 0.75, 0.45) -> 0.666..; drops 0.05, 0.05
    assert rows["han"].area.mean == pytest.approx((0.7 + 2.0 / 3.0) / 2)
    assert rows["han"].drop_at_half.mean == pytest.approx(0.05)
    assert rows["han"].score_at_zero.mean == pytest.approx(0.85)
    assert rows["early_fusion_hgt"].rates == rows["han"].rates == (0.0, 0.5, 0.9)
    assert (rows["han"].rank_area, rows["early_fusion_hgt"].rank_area) == (1, 2)
    assert (rows["han"].rank_drop, rows["early_fusion_hgt"].rank_drop) == (1, 2)  # the smaller drop ranks first


def test_equal_means_share_a_rank_and_no_half_rate_means_no_drop() -> None:
    grid = [record(m, s, 0.8) for m in ("early_fusion_hgt", "han", "mlp") for s in (0, 1)]
    grid += [record(m, s, f, 0.3) for m, f in (("early_fusion_hgt", 0.6), ("han", 0.6), ("mlp", 0.7)) for s in (0, 1)]
    rows = robustness_rows(curve_runs(grid))
    assert [(r.method, r.rank_area) for r in rows] == [("mlp", 1), ("early_fusion_hgt", 2), ("han", 2)]
    assert all(r.drop_at_half is None and r.rank_drop is None for r in rows)


def seeds_at(rates_by_seed: dict[int, tuple[float, ...]]) -> list[RunRecord]:
    """Methods a and b, one run per (seed, rate); r = 0 is the plain run."""
    return [record(m, seed, 0.5 + 0.01 * seed - 0.1 * rate, rate) for m in ("early_fusion_hgt", "han")
            for seed, rates in rates_by_seed.items() for rate in (0.0, *rates)]


def test_a_rate_with_few_seeds_so_far_is_pending_and_does_not_cut_the_curve_down() -> None:
    # Four seeds at r = 0.5; r = 0.9 added for seeds 0-1 only. With it: 4 lines x 3 rates = 12
    # runs kept; without it: 8 lines x 2 rates = 16. So 0.9 waits and the lines keep 4 seeds.
    grid = seeds_at({0: (0.5, 0.9), 1: (0.5, 0.9), 2: (0.5,), 3: (0.5,)})
    runs = curve_runs(grid)
    rows = robustness_rows(runs)
    assert [(r.method, r.rates, r.n_seeds) for r in rows] == [("early_fusion_hgt", (0.0, 0.5), 4), ("han", (0.0, 0.5), 4)]
    assert {p.rate for p in curve_points(runs)} == {0.0, 0.5}
    [pending] = pending_rates(runs)
    assert (pending.rate, pending.n_runs, pending.seeds) == (0.9, 4, (0, 1))
    assert "Pending rates (left out until they have caught up): 0.9 (4 runs, seeds 0, 1)." in render_leaderboard(grid)


def test_a_pending_rate_enters_once_it_keeps_more_runs_than_leaving_it_out() -> None:
    # r = 0.9 at three of four seeds: 6 lines x 3 rates = 18 runs kept against 16 without it.
    grid = seeds_at({0: (0.5, 0.9), 1: (0.5, 0.9), 2: (0.5, 0.9), 3: (0.5,)})
    runs = curve_runs(grid)
    assert list(curve_rates(runs).values()) == [frozenset({0.0, 0.5, 0.9})]
    assert pending_rates(runs) == []
    assert {(r.method, r.n_seeds) for r in robustness_rows(runs)} == {("early_fusion_hgt", 3), ("han", 3)}
    assert "Pending rates" not in render_leaderboard(grid)


def test_a_pending_rate_of_one_seed_says_seed() -> None:
    grid = seeds_at({0: (0.5, 0.9), 1: (0.5,), 2: (0.5,)})
    assert "0.9 (2 runs, seed 0)." in render_leaderboard(grid)


def test_one_missing_run_leaves_out_its_seed_not_its_rate() -> None:
    # In GRID, b has no r = 0.9 run at seed 2 (and a failed one at seed 3): 0.9 still enters.
    runs = curve_runs(GRID)
    assert list(curve_rates(runs).values()) == [frozenset({0.0, 0.5, 0.9})]
    assert pending_rates(runs) == []


def test_t_interval_of_one_value_is_undefined() -> None:
    assert all(math.isnan(v) for v in t_interval([0.5]))
    low, high = t_interval([0.4, 0.6, 0.5])
    assert low < 0.5 < high and (low + high) / 2 == pytest.approx(0.5)


def test_the_leaderboard_keeps_sweeps_out_of_the_main_table_and_adds_a_robustness_section() -> None:
    text = render_leaderboard(GRID)
    main, robustness = text.split("## Robustness to missing modalities")
    per_dataset = [line for line in main.split("## Per dataset")[1].splitlines() if line.startswith("|")]
    header = [c.strip() for c in per_dataset[0].split("|")[1:-1]]
    a_row = next(dict(zip(header, (c.strip().strip("*") for c in line.split("|")[1:-1])))
                 for line in per_dataset if line.split("|")[1].strip().strip("*") == "early_fusion_hgt")
    assert (a_row["Macro-F1 (test)"], a_row["n"]) == ("75.00 ± 7.07", "2")  # the r = 0 runs only
    assert "### synthetic: `image` missing, mcar, dropped in training and test" in robustness
    b_row = next(line for line in robustness.splitlines() if line.startswith("| han "))
    assert [c.strip() for c in b_row.split("|")[1:-1]] == ["han", "68.33 ± 2.36", "1", "85.00 ± 7.07", "5.00 ± 0.00", "1", "2"]


def test_a_plot_is_written_per_curve(tmp_path: Path) -> None:
    grid = GRID + [record("early_fusion_hgt", s, 0.65, 0.5, modality="text", setting="test_only") for s in (0, 1)]
    paths = plot_curves(curve_runs(grid), tmp_path)
    assert sorted(p.name for p in paths) == ["robustness_synthetic_image_train_test.png", "robustness_synthetic_text_test_only.png"]
    assert all(p.stat().st_size > 10_000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert figure_name(curve_runs(grid)[0].key) == "robustness_synthetic_image_train_test.png"


def test_the_y_axis_follows_the_means_within_zero_to_hundred() -> None:
    # A 2-seed t-band spans hundreds of points; the axis follows the curves and Macro-F1's bounds.
    assert y_limits([58.2, 68.4, 25.1]) == pytest.approx((20.1, 73.4))
    assert y_limits([2.0, 97.0]) == (0.0, 100.0)
