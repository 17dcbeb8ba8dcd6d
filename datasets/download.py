"""Fetch the raw files of the real datasets from a mirror of the data-root layout.

``run_all.py --download --datasets imdb_mm --data-root DIR --data-url URL`` fetches every
missing file ``URL/<relative path>`` into ``DIR/<relative path>``: first the tables (each
checked against its md5), then the posters the dataset uses (each checked against the
SHA-1 in ``posters/index.csv``).

Safe by construction: bytes go to ``<file>.part`` and only a fully received file whose
checksum matches is renamed to its real name, so a reader never sees a partial file. An
interrupted download resumes from the ``.part`` file with an HTTP range request (a server
that ignores ranges sends the whole file again); if a resumed file fails its checksum, it
is fetched once more from scratch. A file already in place is verified, never overwritten.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from tqdm import tqdm

from datasets.adapter import DATASETS
from datasets.data_root import RawFilesAdapter
from datasets.loading import get_adapter
from datasets.posters import POSTER_FOLDER, POSTER_INDEX
from datasets.raw_tables import ChecksumMismatchError, RawDataError, file_digest, read_table

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A file could not be fetched; the message names the URL and the reason."""


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the data root (and to the base URL)
    digest: str
    algorithm: str = "md5"


@dataclass
class DownloadReport:
    present: int = 0  # already in place with the right checksum
    fetched: int = 0
    resumed: int = 0  # of the fetched, how many continued a partial file
    failed: list[str] = field(default_factory=list)


def _url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/{quote(path)}"


def fetch_file(base_url: str, remote: RemoteFile, data_root: Path, timeout: float = 60.0) -> str:
    """Make ``data_root/remote.path`` exist with the right checksum; returns what was done.

    One of ``"present"``, ``"fetched"``, ``"resumed"``. Raises :class:`DownloadError` or
    :class:`ChecksumMismatchError`; on error no file appears under the real name.
    """
    target = data_root / remote.path
    if target.exists():
        actual = file_digest(target, remote.algorithm)
        if actual != remote.digest:
            raise ChecksumMismatchError(
                f"{target}: already exists but its {remote.algorithm} is {actual}, expected {remote.digest}; remove it to download it again"
            )
        return "present"
    partial = target.with_name(target.name + ".part")
    resumed = _receive(_url(base_url, remote.path), partial, timeout)
    actual = file_digest(partial, remote.algorithm)
    if actual != remote.digest and resumed:  # the kept prefix may be stale: start over once
        partial.unlink()
        resumed = _receive(_url(base_url, remote.path), partial, timeout)
        actual = file_digest(partial, remote.algorithm)
    if actual != remote.digest:
        partial.unlink()
        raise ChecksumMismatchError(f"{_url(base_url, remote.path)}: received bytes have {remote.algorithm} {actual}, expected {remote.digest}")
    os.replace(partial, target)
    return "resumed" if resumed else "fetched"


def _receive(url: str, partial: Path, timeout: float) -> bool:
    """Fetch ``url`` into ``partial``, continuing it if it exists; True if a prefix was reused."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resuming = offset > 0 and response.status == 206 and response.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
            with partial.open("ab" if resuming else "wb") as stream:
                while block := response.read(CHUNK):
                    stream.write(block)
            return resuming
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing after the offset: the partial file is complete (or wrong)
            return True
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"{url}: {getattr(error, 'reason', error)}") from None


def _posters_of(data_root: Path, subset_column: str) -> list[RemoteFile]:
    table = read_table(data_root / POSTER_INDEX.path, required=("file", "sha1", subset_column), not_null=("file", "sha1"),
                       expected_md5=POSTER_INDEX.md5)
    used = table[subset_column].astype(str).str.lower() == "true"
    return [RemoteFile(f"{POSTER_FOLDER}/{f}", s, "sha1") for f, s in zip(table.loc[used, "file"], table.loc[used, "sha1"])]


def real_dataset_names() -> list[str]:
    """The registered datasets that are read from raw files (what ``--download`` fetches by default)."""
    return [n for n in DATASETS.names() if isinstance(get_adapter(n), RawFilesAdapter)]


def download_datasets(names: Sequence[str], data_root: Path, base_url: str, progress: bool = True) -> DownloadReport:
    """Fetch what the named real datasets need; failures are collected, not raised."""
    report = DownloadReport()
    adapters = [get_adapter(n) for n in names]

    def fetch_all(files: list[RemoteFile], description: str) -> None:
        for remote in tqdm(files, desc=description, unit="file", disable=not progress or len(files) < 2, dynamic_ncols=True):
            try:
                outcome = fetch_file(base_url, remote, data_root)
            except (DownloadError, RawDataError) as error:
                report.failed.append(str(error))
                continue
            report.present += outcome == "present"
            report.fetched += outcome != "present"
            report.resumed += outcome == "resumed"

    real = [a for a in adapters if isinstance(a, RawFilesAdapter)]
    tables = {f.path: RemoteFile(f.path, f.md5) for a in real for f in a.raw_files if f.md5}
    fetch_all(list(tables.values()), "tables")
    if (data_root / POSTER_INDEX.path).is_file():
        posters: dict[str, RemoteFile] = {}
        for adapter in real:
            if adapter.poster_subset:
                try:
                    posters.update((p.path, p) for p in _posters_of(data_root, adapter.poster_subset))
                except RawDataError as error:
                    report.failed.append(str(error))
        fetch_all(list(posters.values()), "posters")
    return report
