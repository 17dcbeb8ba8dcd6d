"""A grid goes on past a failing run and skips what is already finished."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmark.grid import plan_grid, run_grid, warm_feature_caches
from benchmark.protocol import Protocol
from benchmark.record_store import RecordStore
from datasets.adapter import DataContext
from tests.test_run import broken_methods  # noqa: F401 - fixture

TINY = Protocol("tiny", seeds=1, max_epochs=3, patience=2, description="test")


@pytest.mark.usefixtures("broken_methods")
def test_a_failing_run_is_recorded_and_the_grid_goes_on(tmp_path: Path) -> None:
    specs = plan_grid(["raising", "mlp"], ["synthetic"], TINY, seeds=1, device="cpu", dataset_options={"synthetic": {"scale": 0.1}})
    store = RecordStore(tmp_path)
    outcome = run_grid(specs, store, DataContext(None, tmp_path), progress=False)
    assert [r.status for r in outcome.records] == ["failed", "ok"]
    assert [r.status for r in store.load()] == ["failed", "ok"]

    again = run_grid(specs, store, DataContext(None, tmp_path), progress=False)
    assert [r.spec.method for r in again.records] == ["raising"]  # failures are retried
    assert [s.method for s in again.skipped] == ["mlp"]


def test_plan_is_every_dataset_method_seed_with_resolved_defaults_seed_major() -> None:
    # Seed-major: cut anywhere, the methods differ by at most one seed.
    specs = plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], TINY, seeds=3, device="cpu")
    assert [(s.method, s.seed) for s in specs] == [("mlp", 0), ("early_fusion_hgt", 0), ("mlp", 1),
                                                   ("early_fusion_hgt", 1), ("mlp", 2), ("early_fusion_hgt", 2)]
    assert specs[0].hparams["hidden"] == 128 and specs[1].hparams["heads"] == 8
    assert len({s.spec_id for s in specs}) == 6


def test_warming_loads_each_distinct_dataset_once_and_leaves_failures_to_the_runs(monkeypatch, tmp_path) -> None:
    calls = []

    def load(name, context, options):
        calls.append((name, options))
        if name == "broken":
            raise OSError("unreadable")

    monkeypatch.setattr("benchmark.grid.load_dataset", load)
    small = plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], TINY, seeds=2, device="cpu", dataset_options={"synthetic": {"scale": 0.1}})
    default = plan_grid(["mlp"], ["synthetic"], TINY, seeds=2, device="cpu")
    broken = [dataclasses.replace(small[0], dataset="broken", dataset_options={})]
    warm_feature_caches(small + default + broken + small, DataContext(None, tmp_path))
    assert calls == [("synthetic", {"scale": 0.1}), ("synthetic", {}), ("broken", {})]
