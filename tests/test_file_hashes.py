"""File hashes are remembered while a file's size and mtime stay the same, and redone otherwise."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import datasets.file_hashes as file_hashes
from datasets.file_hashes import file_sha1s


def test_hashes_are_reused_until_a_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(b"poster a")
    b.write_bytes(b"poster b")
    hashed: list[str] = []
    real = file_hashes.sha1_of_file
    monkeypatch.setattr(file_hashes, "sha1_of_file", lambda p: hashed.append(os.path.basename(p)) or real(p))

    expected = [hashlib.sha1(b"poster a").hexdigest(), hashlib.sha1(b"poster b").hexdigest()]
    assert file_sha1s([a, b], tmp_path / "cache") == expected and hashed == ["a.jpg", "b.jpg"]
    assert file_sha1s([a, b], tmp_path / "cache") == expected and hashed == ["a.jpg", "b.jpg"]  # from the memo

    a.write_bytes(b"poster A")  # same size: the new mtime gives it away
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 1_000_000))
    assert file_sha1s([a, b], tmp_path / "cache") == [hashlib.sha1(b"poster A").hexdigest(), expected[1]]
    assert hashed == ["a.jpg", "b.jpg", "a.jpg"]


def test_a_damaged_memo_is_rebuilt(tmp_path: Path) -> None:
    a = tmp_path / "a.jpg"
    a.write_bytes(b"poster a")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / file_hashes.MEMO_FILE).write_text("{not json")
    assert file_sha1s([a], tmp_path / "cache") == [hashlib.sha1(b"poster a").hexdigest()]
