"""The dataset adapter contract and the dataset registry.

An adapter turns raw data under a data root into a validated :class:`~datasets.mmhn.MMHN`.
Register one with ``@register_dataset("name")`` in a new module of this package.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping

from datasets.mmhn import MMHN
from datasets.registry import Registry
from datasets.typed_options import options_from


@dataclass(frozen=True)
class Availability:
    """Whether an adapter's raw data was found, and if not, what is expected where."""

    found: bool
    detail: str = ""
    remedy: str = ""  # when not found: how to get the data


@dataclass(frozen=True)
class DataContext:
    """Where raw data is read from, and which processed artefacts are cached where."""

    data_root: Path | None
    cache_dir: Path
    snapshot_dir: Path | None = None  # processed graphs read instead of the raw data (datasets/snapshot.py)
    progress: bool = True  # progress bars while encoding features (off under --no-progress, in logs)
    # Plain runs store their selected weights in the cache, for a sweep's test_only points to share
    store_plain_weights: bool = False


@dataclass(frozen=True)
class NoOptions:
    pass


class DatasetAdapter(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    default_split: ClassVar[str]
    Options: ClassVar[type] = NoOptions

    def availability(self, data_root: Path | None) -> Availability:
        return Availability(found=True, detail="generated, no files needed")

    def options(self, overrides: Mapping[str, Any]) -> Any:
        return options_from(self.Options, overrides, f"dataset {self.name!r}")

    def normalized_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """The options that differ from the defaults, type-checked (what a run spec stores)."""
        resolved = dataclasses.asdict(self.options(overrides))
        defaults = dataclasses.asdict(self.Options())
        return {k: v for k, v in resolved.items() if v != defaults[k]}

    @abstractmethod
    def load(self, context: DataContext, options: Any) -> MMHN:
        """Build the MMHN (the caller validates it)."""


DATASETS: Registry[type[DatasetAdapter]] = Registry("dataset")
register_dataset = DATASETS.register
