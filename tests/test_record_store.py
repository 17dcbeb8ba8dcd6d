"""The record store survives a writer killed mid-line and keeps the latest record per spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.spec import RunSpec


def record(seed: int, status: str = "ok") -> RunRecord:
    s = RunSpec("mlp", "synthetic", "random_20_10_70", seed, {}, 10, 5)
    return RunRecord(spec=s, spec_id=s.spec_id, status=status, error="" if status == "ok" else "boom")


def test_append_and_load_round_trip(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records.jsonl")
    store.append(record(0))
    store.append(record(1, "failed"))
    loaded = store.load()
    assert [r.spec.seed for r in loaded] == [0, 1]
    assert loaded[1].error == "boom"
    assert store.finished_ids() == {record(0).spec_id}


def test_truncated_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    store = RecordStore(path)
    store.append(record(0))
    with path.open("a") as handle:  # what a process killed mid-write leaves behind
        handle.write(json.dumps(record(1).to_json())[:40])
    with pytest.warns(UserWarning, match="records.jsonl:2: skipping an unreadable record"):
        assert [r.spec.seed for r in store.load()] == [0]
    store.append(record(2))
    with pytest.warns(UserWarning):
        assert [r.spec.seed for r in store.load()] == [0, 2]


def test_a_retry_supersedes_a_failure(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records.jsonl")
    store.append(record(0, "failed"))
    assert store.finished_ids() == set()
    store.append(record(0))
    assert store.latest()[record(0).spec_id].ok
