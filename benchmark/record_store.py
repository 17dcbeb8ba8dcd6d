"""An append-only, crash-safe store of run records (JSON lines).

Each record is written as one line with a single ``write`` to a file opened in append mode,
under an exclusive lock, then flushed and fsynced: a process killed mid-grid leaves every
earlier record intact and at worst one truncated last line, which readers skip (with a
warning) and which the next append terminates with a newline so the file stays parseable.
"""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from pathlib import Path

from benchmark.record import RunRecord


class RecordStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record.to_json(), sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and _last_byte(self.path, size) != b"\n":
                line = b"\n" + line  # a killed writer left a partial line: close it off
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def load(self) -> list[RunRecord]:
        if not self.path.exists():
            return []
        records = []
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    records.append(RunRecord.from_json(json.loads(raw)))
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    warnings.warn(f"{self.path}:{number}: skipping an unreadable record ({error})", stacklevel=2)
        return records

    def latest(self) -> dict[str, RunRecord]:
        """The last record of every spec id (a retried failure is superseded by its retry)."""
        return {r.spec_id: r for r in self.load()}

    def finished_ids(self) -> set[str]:
        return {spec_id for spec_id, r in self.latest().items() if r.ok}


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)
