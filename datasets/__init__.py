"""Dataset adapters, the MMHN data contract, and feature encoders."""

from datasets.adapter import DATASETS, Availability, DataContext, DatasetAdapter, register_dataset
from datasets.mmhn import MMHN, MMHNValidationError, Split
from datasets.registry import UnknownNameError, discover

discover(__name__)

__all__ = [
    "DATASETS",
    "MMHN",
    "Availability",
    "DataContext",
    "DatasetAdapter",
    "MMHNValidationError",
    "Split",
    "UnknownNameError",
    "register_dataset",
]
