"""Reading raw CSV tables and checking raw files, with errors that name the file and the row.

Every real-data adapter and the user-folder loader read their tables through
:func:`read_table`, so a truncated or malformed CSV, a missing column, an empty required
cell or a non-numeric number stops the build with one clear message (file, line, value)
instead of a NaN or a KeyError deep inside the graph construction. Line numbers count the
header as line 1 (the tables here have no quoted line breaks).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd


class RawDataError(ValueError):
    """Raw data is missing or malformed; the message names the file (and the row)."""


class ChecksumMismatchError(RawDataError):
    """A raw file's bytes differ from the ones the dataset is defined on."""


@dataclass(frozen=True)
class RawFile:
    """A raw file under the data root, with the checksum of the bytes a dataset is defined on."""

    path: str  # relative to the data root, '/'-separated
    md5: str | None = None


def file_digest(path: Path, algorithm: str = "md5") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str, algorithm: str = "md5") -> None:
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise ChecksumMismatchError(
            f"{path}: checksum mismatch ({algorithm} {actual}, expected {expected}); the file differs from the one the "
            "dataset is defined on: replace it with the original (run_all.py --download fetches it)"
        )


def line_of(row: int) -> int:
    """The 1-based file line of the 0-based data row ``row`` (the header is line 1)."""
    return row + 2


def read_table(
    path: Path,
    required: Sequence[str],
    not_null: Sequence[str] = (),
    numeric: Sequence[str] = (),
    dtype: dict[str, type] | None = None,
    expected_md5: str | None = None,
) -> pd.DataFrame:
    """Read a CSV table, checking its checksum, shape, columns, required cells and numbers.

    ``not_null`` columns must have a value in every row; ``numeric`` columns must parse as
    numbers (empty cells are allowed unless also in ``not_null``).
    """
    if not path.is_file():
        raise RawDataError(f"{path}: file not found")
    if expected_md5 is not None:
        verify_checksum(path, expected_md5)
    raw = path.read_bytes()
    if not raw.strip():
        raise RawDataError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RawDataError(f"{path}, line {line}: not valid UTF-8 ({error.reason})") from None
    _check_last_line(path, text)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=dtype)  # type: ignore[arg-type]
    except pd.errors.ParserError as error:
        raise RawDataError(f"{path}: malformed CSV: {str(error).strip()}") from None
    except ValueError as error:  # a dtype that does not fit, e.g. text in an integer column
        raise RawDataError(f"{path}: {error}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise RawDataError(f"{path}: missing column(s) {', '.join(missing)}; found: {', '.join(map(str, table.columns))}")
    for column in not_null:
        empty = table[column].isna().to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise RawDataError(f"{path}, line {line_of(row)}: empty {column!r} ({int(empty.sum())} row(s) in all)")
    for column in numeric:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = (values.isna() & table[column].notna()).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise RawDataError(f"{path}, line {line_of(row)}: {column}={table[column].iloc[row]!r} is not a number")
        table[column] = values
    return table


def _check_last_line(path: Path, text: str) -> None:
    """A file cut short mid-row has a last line with fewer fields than the header."""
    lines = text.splitlines()
    if len(lines) < 2 or text.endswith("\n"):
        return
    header, last = next(csv.reader([lines[0]])), next(csv.reader([lines[-1]]), [])
    if len(last) != len(header):
        raise RawDataError(
            f"{path}, line {len(lines)}: {len(last)} field(s) where the header has {len(header)}, and no line end: "
            "the file looks truncated (re-download it)"
        )
