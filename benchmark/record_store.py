"""An append-only, crash-safe store of run records: JSON lines, sharded by dataset.

A results folder keeps its records under ``records/<dataset>/<NNN>.jsonl``. A shard is
closed once it reaches ``shard_bytes`` (512 KiB) and the next record opens ``NNN + 1``, so
no file grows past what a repository should track (a full missing-modality sweep on one
dataset is thousands of records, several MiB) and every shard stays plain, diffable text.

Each record is written as one line with a single ``write`` to a shard opened in append
mode, under an exclusive lock on the ``records/`` folder, then flushed and fsynced: a
process killed mid-grid leaves every earlier record intact and at worst one truncated last
line, which readers skip (with a warning) and which the next append to that shard
terminates with a newline so the file stays parseable.

A folder written before sharding holds one ``records.jsonl``. It is read first (it is
older than any shard) and moved into the shards, line by line and byte for byte, by the
first append; a line too damaged to name its dataset goes to ``records/unreadable.jsonl``,
kept and never read.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmark.record import RunRecord

RECORDS_DIR = "records"
LEGACY_FILE = "records.jsonl"
UNREADABLE_FILE = "unreadable.jsonl"
SHARD_BYTES = 512 * 1024


class RecordStore:
    """The run records of one results folder."""

    def __init__(self, folder: Path, shard_bytes: int = SHARD_BYTES) -> None:
        self.folder = Path(folder)
        self.root = self.folder / RECORDS_DIR
        self.legacy = self.folder / LEGACY_FILE
        self.shard_bytes = shard_bytes

    def exists(self) -> bool:
        return bool(self.files())

    def files(self) -> list[Path]:
        """Every file records are read from, oldest first per dataset."""
        files = [self.legacy] if self.legacy.exists() else []
        if self.root.is_dir():
            for dataset in sorted(p for p in self.root.iterdir() if p.is_dir()):
                files.extend(_shards(dataset))
        return files

    def append(self, record: RunRecord) -> None:
        line = (json.dumps(record.to_json(), sort_keys=True) + "\n").encode()
        with self._locked():
            self._move_legacy()
            self._write(record.spec.dataset, line)

    def load(self) -> list[RunRecord]:
        records = []
        for path in self.files():
            for number, raw in _lines(path):
                try:
                    records.append(RunRecord.from_json(json.loads(raw)))
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    warnings.warn(f"{path}:{number}: skipping an unreadable record ({error})", stacklevel=2)
        return records

    def count(self) -> int:
        """Lines written, readable or not: what the manifest counts runs by."""
        return sum(1 for path in self.files() for _ in _lines(path))

    def latest(self) -> dict[str, RunRecord]:
        """The last record of every spec id (a retried failure is superseded by its retry)."""
        return {r.spec_id: r for r in self.load()}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)  # flock works on a directory: no lock file to track or clean up
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, dataset: str, line: bytes) -> None:
        folder = self.root / _folder_name(dataset)
        folder.mkdir(exist_ok=True)
        shards = _shards(folder)
        path = shards[-1] if shards else folder / _shard_name(0)
        size = path.stat().st_size if path.exists() else 0
        if size and size + len(line) > self.shard_bytes:
            path = folder / _shard_name(int(path.stem) + 1)
        _append_line(path, line)

    def _move_legacy(self) -> None:
        if not self.legacy.exists():
            return
        unreadable = 0
        for _, raw in _lines(self.legacy):
            line = raw if raw.endswith(b"\n") else raw + b"\n"
            try:
                dataset = json.loads(raw)["spec"]["dataset"]
            except (json.JSONDecodeError, KeyError, TypeError):
                unreadable += 1
                _append_line(self.root / UNREADABLE_FILE, line)
                continue
            self._write(dataset, line)
        self.legacy.unlink()
        note = f"; {unreadable} unreadable line(s) kept in {self.root / UNREADABLE_FILE}" if unreadable else ""
        warnings.warn(f"moved the records of {self.legacy} into {self.root}/<dataset>/ shards{note}", stacklevel=3)


def _append_line(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and _last_byte(path, size) != b"\n":
            line = b"\n" + line  # a killed writer left a partial line: close it off
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, raw


def _shards(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("*.jsonl") if p.stem.isdigit()), key=lambda p: int(p.stem))


def _shard_name(number: int) -> str:
    return f"{number:03d}.jsonl"


def _folder_name(dataset: str) -> str:
    # a user dataset's name comes from a registry string: keep it a single, portable path part
    return re.sub(r"[^A-Za-z0-9_.-]", "_", dataset).lstrip(".") or "_"


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)
