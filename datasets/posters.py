"""The poster collection under the data root, joined to movies by numeric IMDb id.

``posters/index.csv`` lists one poster per IMDb id (file name, source, SHA-1); the images
are ``posters/images/NNNNNNN.jpg``. A movie without a row in the index has no poster; a
row whose file is not on disk (an incomplete download) also counts as no poster, and the
count is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from datasets.raw_tables import RawFile, read_table

POSTER_INDEX = RawFile("posters/index.csv", md5="5e62dcfed24aec25a8f38c1b846e9076")
POSTER_FOLDER = "posters"


@dataclass(frozen=True)
class PosterIndexEntry:
    path: Path
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
    folder = data_root / POSTER_FOLDER
    return {int(i): PosterIndexEntry(folder / f, s) for i, f, s in zip(table["imdb_id"], table["file"], table["sha1"])}


def join_posters(data_root: Path, imdb_ids: Sequence[int | None]) -> PosterJoin:
    index = read_poster_index(data_root)
    paths: list[Path | None] = []
    not_on_disk: list[Path] = []
    for imdb_id in imdb_ids:
        entry = index.get(imdb_id) if imdb_id is not None else None
        if entry is not None and not entry.path.is_file():
            not_on_disk.append(entry.path)
            entry = None
        paths.append(entry.path if entry is not None else None)
    return PosterJoin(paths=paths, not_on_disk=not_on_disk)
