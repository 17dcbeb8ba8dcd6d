"""Load a dataset by name (or a user's folder by path): options, availability check, build, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from datasets.adapter import DATASETS, DataContext, DatasetAdapter
from datasets.mmhn import MMHN
from datasets.snapshot import read_snapshot, snapshot_file
from datasets.user_folder import FolderDataset, is_folder_path


class DatasetUnavailableError(FileNotFoundError):
    """The adapter's raw data is not under the data root; the message says what is expected."""


def get_adapter(name: str) -> DatasetAdapter:
    """The registered adapter ``name``, or, for a path, the adapter of a user's dataset folder."""
    if is_folder_path(name):
        return FolderDataset(Path(name))
    return DATASETS.get(name)()


def load_dataset(name: str, context: DataContext, options: Mapping[str, Any] | None = None) -> MMHN:
    adapter = get_adapter(name)
    typed = adapter.options(dict(options or {}))
    if context.snapshot_dir is not None:
        normalized = adapter.normalized_options(dict(options or {}))
        snapshot = snapshot_file(context.snapshot_dir, name, normalized)
        if snapshot.is_file():
            return read_snapshot(snapshot, name, normalized).validate()
    availability = adapter.availability(context.data_root)
    if not availability.found:
        raise DatasetUnavailableError(f"dataset {name!r}: {availability.detail}")
    return adapter.load(context, typed).validate()
