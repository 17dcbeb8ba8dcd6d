"""The plan a grid prints before training: what it trains, what it reuses, and a time estimate
from the cost of comparable records."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from benchmark.run_plan import duration, make_plan
from datasets.missing import MissingSetting
from tests.record_factory import make_record


def record(seed: int, seconds: float, missing: MissingSetting = MissingSetting(), versions: dict | None = None):
    r = make_record("mlp", "synthetic", seed, 0.6)
    r = dataclasses.replace(r, spec=dataclasses.replace(r.spec, missing=missing), cost=dataclasses.replace(r.cost, total_seconds=seconds))
    r = dataclasses.replace(r, spec_id=r.spec.spec_id)
    return r if versions is None else dataclasses.replace(r, number_versions=versions)


def test_the_estimate_is_the_mean_cost_of_records_with_the_same_method_data_protocol_and_setting() -> None:
    stale = [record(seed, 100.0 + 20 * seed, versions={}) for seed in range(3)]  # plain runs: 100, 120, 140 s
    swept = [record(seed, 10.0, MissingSetting("mcar", "image", 0.5, "train_test")) for seed in range(3)]  # far cheaper
    specs = [r.spec for r in stale] + [dataclasses.replace(stale[0].spec, seed=7)]
    plan = make_plan(specs, stale + swept)
    assert len(plan.to_train) == 4 and plan.replacing_stale == 3 and plan.reused == []
    assert plan.estimated_runs == 4 and plan.estimated_seconds == 4 * 120.0  # the plain records' mean, not the sweep's
    lines = plan.lines(Path("results"), parallel_runs=2)
    assert lines[0] == "plan: 4 runs; 4 to train, 0 reused from results"
    assert "estimate: 8 min of run time, about 4 min of wall time at 2 run(s) at once" in lines[-1]


def test_a_plan_with_nothing_to_train_says_how_to_compute_again() -> None:
    current = [record(seed, 5.0) for seed in range(2)]
    plan = make_plan([r.spec for r in current], current)
    assert plan.to_train == [] and len(plan.reused) == 2
    assert any("nothing to train" in line and "--out DIR" in line for line in plan.lines(Path("results"), 1))


def test_durations_read_as_seconds_minutes_or_hours() -> None:
    assert (duration(42), duration(600), duration(3 * 3600)) == ("42 s", "10 min", "3.0 h")
