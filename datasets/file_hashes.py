"""SHA-1 of many files, remembered between runs while a file's size and mtime stay the same.

Keying poster features by content needs every poster's hash on every load; re-reading
thousands of images costs more than the rest of a cached load. Like git's index, the memo
(``<cache_dir>/file-hashes.json``) trusts a stored hash only while the file's path, size
and modification time (ns) are unchanged; anything else is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

from datasets.feature_cache import atomic_write

MEMO_FILE = "file-hashes.json"


def sha1_of_file(path: str | Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.sha1(stream.read()).hexdigest()


def file_sha1s(paths: Sequence[str | Path], cache_dir: Path) -> list[str]:
    memo_path = Path(cache_dir) / MEMO_FILE
    try:
        memo: dict[str, list] = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    hashes, changed = [], False
    for path in paths:
        key = os.path.abspath(path)
        stat = os.stat(key)
        known = memo.get(key)
        if known is not None and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            hashes.append(known[2])
            continue
        digest = sha1_of_file(key)
        memo[key] = [stat.st_size, stat.st_mtime_ns, digest]
        hashes.append(digest)
        changed = True
    if changed:
        text = json.dumps(memo, separators=(",", ":")).encode()
        atomic_write(memo_path, lambda stream: stream.write(text))  # type: ignore[attr-defined]
    return hashes
