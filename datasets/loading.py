"""Load a registered dataset by name: options, availability check, build, validate."""

from __future__ import annotations

from typing import Any, Mapping

from datasets.adapter import DATASETS, DataContext, DatasetAdapter
from datasets.mmhn import MMHN


class DatasetUnavailableError(FileNotFoundError):
    """The adapter's raw data is not under the data root; the message says what is expected."""


def get_adapter(name: str) -> DatasetAdapter:
    return DATASETS.get(name)()


def load_dataset(name: str, context: DataContext, options: Mapping[str, Any] | None = None) -> MMHN:
    adapter = get_adapter(name)
    typed = adapter.options(dict(options or {}))
    availability = adapter.availability(context.data_root)
    if not availability.found:
        raise DatasetUnavailableError(f"dataset {name!r}: {availability.detail}")
    return adapter.load(context, typed).validate()
