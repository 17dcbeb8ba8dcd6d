"""A record counts as a result of this code only when it was made with this code's method and
harness versions: resume, the leaderboard and the plan all go by that, and a bad versions field
makes a record stale, never a crash."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmark.grid import plan_grid, run_grid
from benchmark.number_versions import HARNESS_VERSION, NumberVersions, split_current, staleness
from benchmark.protocol import Protocol
from benchmark.record_store import RecordStore
from benchmark.report import render_leaderboard
from benchmark.run_plan import make_plan
from datasets.missing import MissingSetting
from datasets.adapter import DataContext
from methods.method import METHODS
from tests.record_factory import make_record

TINY = Protocol("tiny", seeds=1, max_epochs=3, patience=2, description="test")
SMALL = {"synthetic": {"scale": 0.1}}


def with_versions(record, versions):
    return dataclasses.replace(record, number_versions=versions)


def test_a_record_of_this_codes_versions_is_current_and_others_say_why_not() -> None:
    record = make_record("han", "synthetic", 0, 0.7)
    assert record.number_versions == {"method": METHODS.get("han").version, "harness": HARNESS_VERSION}
    assert staleness(record) is None
    older = with_versions(record, {"method": METHODS.get("han").version + 1, "harness": HARNESS_VERSION})
    assert staleness(older) == f"made with han v{METHODS.get('han').version + 1}, the code is at v{METHODS.get('han').version}"
    harness = with_versions(record, {"method": METHODS.get("han").version, "harness": HARNESS_VERSION + 1})
    assert staleness(harness) == f"made with harness v{HARNESS_VERSION + 1}, the code is at v{HARNESS_VERSION}"
    assert staleness(make_record("not_a_method", "synthetic", 0, 0.7)) == "method 'not_a_method' is no longer registered"


@pytest.mark.parametrize(("versions", "reason"), [
    ({}, "no versions recorded (made before versions existed)"),
    ("v1", "versions field 'v1' is not an object"),
    ({"method": "1", "harness": 1}, "has no positive integer 'method'"),
    ({"method": 1}, "has no positive integer 'harness'"),
    ({"method": True, "harness": 1}, "has no positive integer 'method'"),
    ({"method": 0, "harness": 1}, "has no positive integer 'method'"),
])
def test_a_missing_or_malformed_versions_field_makes_a_record_stale_with_the_reason(versions, reason: str, tmp_path: Path) -> None:
    record = with_versions(make_record("mlp", "synthetic", 0, 0.7), versions)
    assert reason in staleness(record)
    store = RecordStore(tmp_path)
    store.append(record)  # and through the store's JSON round trip
    (loaded,) = store.load()
    assert reason in staleness(loaded)
    assert split_current([loaded]).current == [] and split_current([loaded]).stale[0].reason == staleness(loaded)


def test_a_current_record_is_never_hidden_by_a_later_stale_one_of_the_same_spec() -> None:
    current = make_record("mlp", "synthetic", 0, 0.7)
    later_stale = with_versions(current, {})
    split = split_current([current, later_stale])
    assert split.current == [current] and split.stale == []
    split = split_current([later_stale])
    assert split.current == [] and [s.record for s in split.stale] == [later_stale]


def test_resume_trains_again_what_only_stale_records_cover(tmp_path: Path) -> None:
    specs = plan_grid(["mlp"], ["synthetic"], TINY, seeds=2, device="cpu", dataset_options=SMALL)
    store = RecordStore(tmp_path / "results")
    context = DataContext(None, tmp_path / "cache")
    first = run_grid(specs, store, context, progress=False)
    assert all(r.number_versions == NumberVersions.current("mlp").to_json() for r in first.records)
    # a folder whose seed-1 record was made by another version of the method: the plan says so, and resume re-runs it
    store = RecordStore(tmp_path / "mixed")
    store.append(first.records[0])
    store.append(with_versions(first.records[1], {"method": 99, "harness": HARNESS_VERSION}))
    plan = make_plan(specs, store.load())
    assert [s.seed for s in plan.to_train] == [1] and plan.replacing_stale == 1 and len(plan.reused) == 1
    again = run_grid(specs, store, context, progress=False)
    assert [r.spec.seed for r in again.records] == [1] and [s.seed for s in again.skipped] == [0]
    assert again.records[0].metrics == first.records[1].metrics  # the same code gives the same numbers


def test_the_leaderboard_keeps_stale_records_out_of_its_means_and_lists_them_with_a_command() -> None:
    current = [make_record("mlp", "synthetic", seed, 0.6) for seed in range(3)]
    stale = [with_versions(make_record("han", "synthetic", seed, 0.9), {}) for seed in range(3)]
    text = render_leaderboard(current + stale)
    tables, listed = text.split("## Stale records")
    assert "| han" not in tables and "90.00" not in tables
    assert "- Code versions of these rows: harness v1, mlp v1." in tables
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in listed.splitlines() if line.startswith("| synthetic")]
    assert rows == [["synthetic", "han", "3", "no versions recorded (made before versions existed)",
                     "`python run_all.py --methods han --datasets synthetic --seeds 3 --protocol standard`"]]
    assert "3 stale records of other code versions listed at the end" in text


def test_stale_sweep_records_are_listed_with_the_sweep_command_that_makes_them_again() -> None:
    stale = []
    for seed in range(2):
        for rate, setting in ((0.0, "train_test"), (0.5, "train_test"), (0.9, "test_only")):
            missing = MissingSetting("mcar", "image", rate, setting) if rate else MissingSetting()
            spec = make_record("hgnn_ima", "imdb_mm", seed, 0.6).spec
            spec = dataclasses.replace(spec, missing=missing, config_source="tuned (30 trials)")
            stale.append(with_versions(make_record("hgnn_ima", "imdb_mm", seed, 0.6, spec=spec), {}))
    text = render_leaderboard(stale)
    assert ("`python run_all.py --methods hgnn_ima --datasets imdb_mm --seeds 2 --protocol standard --use-tuned --missing sweep "
            "--missing-mechanism mcar --missing-modalities image --missing-settings test_only,train_test --missing-rates 0,0.5,0.9`") in text
    # the r = 0 records are plain ones, which a plain grid makes (and the sweep reuses)
    assert "`python run_all.py --methods hgnn_ima --datasets imdb_mm --seeds 2 --protocol standard --use-tuned`" in text
