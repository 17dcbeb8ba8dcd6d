"""The record store shards by dataset and size, survives a writer killed mid-line, keeps the
latest record per spec, and moves an old single-file folder into shards without losing a line."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.spec import RunSpec


def record(seed: int, status: str = "ok", dataset: str = "synthetic") -> RunRecord:
    s = RunSpec("mlp", dataset, "random_20_10_70", seed, {}, 10, 5)
    return RunRecord(spec=s, spec_id=s.spec_id, status=status, error="" if status == "ok" else "boom")


def line_of(r: RunRecord) -> bytes:
    return (json.dumps(r.to_json(), sort_keys=True) + "\n").encode()


def test_append_and_load_round_trip(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    assert not store.exists() and store.load() == []
    store.append(record(0))
    store.append(record(1, "failed"))
    loaded = store.load()
    assert [r.spec.seed for r in loaded] == [0, 1]
    assert loaded[1].error == "boom"
    assert [r.ok for r in store.latest().values()] == [True, False]
    assert store.count() == 2
    assert store.files() == [tmp_path / "records" / "synthetic" / "000.jsonl"]


def test_each_dataset_has_its_own_shards_and_a_full_shard_opens_the_next(tmp_path: Path) -> None:
    one = len(line_of(record(0)))
    store = RecordStore(tmp_path, shard_bytes=2 * one)  # two records per shard
    for seed in range(5):
        store.append(record(seed))
    store.append(record(0, dataset="imdb_mm"))
    synthetic = tmp_path / "records" / "synthetic"
    assert [p.name for p in store.files()] == ["000.jsonl", "000.jsonl", "001.jsonl", "002.jsonl"]
    assert store.files()[0].parent.name == "imdb_mm"
    assert [len(p.read_bytes().splitlines()) for p in sorted(synthetic.iterdir())] == [2, 2, 1]
    assert all(p.stat().st_size <= 2 * one for p in store.files())
    assert [(r.spec.dataset, r.spec.seed) for r in store.load()] == [("imdb_mm", 0)] + [("synthetic", s) for s in range(5)]


def test_shards_are_read_in_numeric_order(tmp_path: Path) -> None:
    folder = tmp_path / "records" / "synthetic"
    folder.mkdir(parents=True)
    (folder / "010.jsonl").write_bytes(line_of(record(1)))
    (folder / "009.jsonl").write_bytes(line_of(record(0)))
    store = RecordStore(tmp_path)
    assert [r.spec.seed for r in store.load()] == [0, 1]
    store.append(record(2))
    assert (folder / "010.jsonl").read_bytes().count(b"\n") == 2  # appended to the newest shard, not a new 000


def test_truncated_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.append(record(0))
    (shard,) = store.files()
    with shard.open("a") as handle:  # what a process killed mid-write leaves behind
        handle.write(json.dumps(record(1).to_json())[:40])
    with pytest.warns(UserWarning, match="000.jsonl:2: skipping an unreadable record"):
        assert [r.spec.seed for r in store.load()] == [0]
    store.append(record(2))
    with pytest.warns(UserWarning):
        assert [r.spec.seed for r in store.load()] == [0, 2]
    assert store.count() == 3  # the damaged line still counts as a line written


def test_a_retry_supersedes_a_failure(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.append(record(0, "failed"))
    assert not store.latest()[record(0).spec_id].ok
    store.append(record(0))
    assert store.latest()[record(0).spec_id].ok


def test_an_old_single_file_folder_is_read_and_then_moved_into_shards_byte_for_byte(tmp_path: Path) -> None:
    legacy_lines = [line_of(record(0)), line_of(record(0, dataset="imdb_mm")), line_of(record(0, "failed"))]
    damaged = b'{"spec": {"datas'
    (tmp_path / "records.jsonl").write_bytes(b"".join(legacy_lines) + damaged)
    store = RecordStore(tmp_path)
    with pytest.warns(UserWarning, match="skipping an unreadable record"):
        assert [r.status for r in store.latest().values()] == ["failed", "ok"]  # the later line wins
    with pytest.warns(UserWarning, match="moved the records of .*records.jsonl.*1 unreadable line"):
        store.append(record(1))
    assert not (tmp_path / "records.jsonl").exists()
    root = tmp_path / "records"
    assert (root / "synthetic" / "000.jsonl").read_bytes() == legacy_lines[0] + legacy_lines[2] + line_of(record(1))
    assert (root / "imdb_mm" / "000.jsonl").read_bytes() == legacy_lines[1]
    assert (root / "unreadable.jsonl").read_bytes() == damaged + b"\n"
    assert store.count() == 4  # the unreadable line is kept aside, not read as a record


def _append_seeds(folder: str, seeds: list[int]) -> None:
    store = RecordStore(Path(folder), shard_bytes=3 * len(line_of(record(0))))
    for seed in seeds:
        store.append(record(seed))


def test_concurrent_writers_lose_no_record_and_never_overfill_a_shard(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_seeds, args=(str(tmp_path), list(range(k, 40, 4)))) for k in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    store = RecordStore(tmp_path)
    assert sorted(r.spec.seed for r in store.load()) == list(range(40))
    assert all(p.stat().st_size <= 3 * len(line_of(record(0))) for p in store.files())
