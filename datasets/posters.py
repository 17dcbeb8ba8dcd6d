"""The poster collection under the data root, joined to movies by numeric IMDb id.

``posters/index.csv`` lists one poster per IMDb id (file name, source, SHA-1); the images
are ``posters/images/NNNNNNN.jpg``. A movie without a row in the index has no poster; a
row whose file is not on disk (an incomplete download) also counts as no poster, and the
count is reported.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from datasets.raw_tables import RawFile, read_table

POSTER_INDEX = RawFile("posters/index.csv", md5="5e62dcfed24aec25a8f38c1b846e9076")
POSTER_FOLDER = "posters"


@dataclass(frozen=True)
class PosterIndexEntry:
    file: str  # absolute path
    sha1: str


@dataclass(frozen=True)
class PosterJoin:
    """Poster file per movie (None: no poster), and how many listed files were not on disk."""

    paths: list[Path | None]
    not_on_disk: list[Path]


def read_poster_index(data_root: Path) -> dict[int, PosterIndexEntry]:
    path = data_root / POSTER_INDEX.path
    table = read_table(path, required=("imdb_id", "file", "sha1"), not_null=("imdb_id", "file", "sha1"), numeric=("imdb_id",),
                       expected_md5=POSTER_INDEX.md5)
    folder = f"{data_root / POSTER_FOLDER}{os.sep}"  # plain strings: 7,354 Path joins cost more than the rest of the read
    return {int(i): PosterIndexEntry(folder + f, s) for i, f, s in zip(table["imdb_id"], table["file"], table["sha1"])}


def join_posters(data_root: Path, imdb_ids: Sequence[int | None]) -> PosterJoin:
    index = read_poster_index(data_root)
    paths: list[Path | None] = []
    not_on_disk: list[Path] = []
    for imdb_id in imdb_ids:
        entry = index.get(imdb_id) if imdb_id is not None else None
        path = Path(entry.file) if entry is not None else None
        if path is not None and not os.path.isfile(entry.file):  # type: ignore[union-attr]
            not_on_disk.append(path)
            path = None
        paths.append(path)
    if not_on_disk:
        warnings.warn(f"{len(not_on_disk)} poster(s) listed in {POSTER_INDEX.path} are not on disk and count as missing "
                      f"(first: {not_on_disk[0]}); run_all.py --download fetches them", stacklevel=2)
    return PosterJoin(paths=paths, not_on_disk=not_on_disk)
