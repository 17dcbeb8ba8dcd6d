"""Real datasets read from a data root: which raw files they need, whether they are there, how to get them."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Sequence

from datasets.adapter import Availability, DatasetAdapter
from datasets.raw_tables import RawFile

DATA_ROOT_HINT = "--data-root DIR or MMHN_DATA_ROOT"


def download_hint(dataset: str) -> str:
    return (f"fetch it with: run_all.py --download --datasets {dataset} --data-root DIR --data-url URL "
            "(a mirror of the data-root layout; README 'Real datasets' lists the original sources)")


def raw_files_availability(dataset: str, data_root: Path | None, files: Sequence[RawFile]) -> Availability:
    expected = ", ".join(f.path for f in files)
    if data_root is None:
        return Availability(False, f"no data root given ({DATA_ROOT_HINT}); expects {expected}", download_hint(dataset))
    missing = [f.path for f in files if not (data_root / f.path).is_file()]
    if missing:
        return Availability(False, f"not found under {data_root}: {', '.join(missing)}", download_hint(dataset))
    return Availability(True, f"found under {data_root}")


class RawFilesAdapter(DatasetAdapter):
    """An adapter whose data are raw files under the data root (and posters listed in the index)."""

    raw_files: ClassVar[tuple[RawFile, ...]] = ()
    poster_subset: ClassVar[str] = ""  # the posters/index.csv column marking this dataset's posters

    def availability(self, data_root: Path | None) -> Availability:
        return raw_files_availability(self.name, data_root, self.raw_files)
