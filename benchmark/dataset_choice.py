"""Which datasets a run uses: names, 'available', 'all' or folder paths; and the tables that say so."""

from __future__ import annotations

from pathlib import Path

from tabulate import tabulate

from datasets.adapter import DATASETS, Availability
from datasets.loading import get_adapter
from datasets.snapshot import has_snapshot
from datasets.user_folder import is_folder_path


class DatasetChoiceError(ValueError):
    """An unknown dataset name or a folder that is not a dataset folder; the message says which."""


def choose_datasets(value: str, data_root: Path | None, snapshot_dir: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """``(datasets to run, {skipped: reason and remedy})`` for a ``--datasets`` value.

    ``available`` keeps every registered dataset whose data is found and lists the others
    as skipped; ``all`` and explicit names must all be found (else the error says what is
    expected where and how to get it); a path names a user's dataset folder and is
    recorded as its absolute path. A dataset with a snapshot in ``snapshot_dir`` counts as found.
    """
    if value == "available":
        chosen, skipped = [], {}
        for name in DATASETS.names():
            availability = get_adapter(name).availability(data_root)
            if availability.found or has_snapshot(snapshot_dir, name):
                chosen.append(name)
            else:
                skipped[name] = _reason(availability)
        return chosen, skipped
    valid = f"valid: all, available, {', '.join(DATASETS.names())}, or a dataset folder path (e.g. ./my_graph)"
    names = DATASETS.names() if value == "all" else [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise DatasetChoiceError(f"--datasets is empty; {valid}")
    chosen = []
    for name in names:
        if not is_folder_path(name) and name not in DATASETS:
            hint = f" (a folder path must contain '/', e.g. ./{name})" if Path(name).is_dir() else ""
            raise DatasetChoiceError(f"unknown dataset {name!r}{hint}; {valid}")
        adapter = get_adapter(name)
        availability = adapter.availability(data_root)
        if not availability.found and not has_snapshot(snapshot_dir, name):
            raise DatasetChoiceError(f"dataset {name!r}: {_reason(availability)}")
        chosen.append(adapter.name)
    return list(dict.fromkeys(chosen)), {}


def _reason(availability: Availability) -> str:
    return f"{availability.detail}; {availability.remedy}" if availability.remedy else availability.detail


def opening_table(used: list[str], skipped: dict[str, str], data_root: Path | None, snapshot_dir: Path | None = None) -> str:
    """The table a run opens with: each dataset used (and where its data is) or skipped (and why)."""
    rows = [[name, "used", f"snapshot in {snapshot_dir} (when one matches its options), else raw data"
             if has_snapshot(snapshot_dir, name) else get_adapter(name).availability(data_root).detail] for name in used]
    rows += [[name, "skipped", reason] for name, reason in skipped.items()]
    return tabulate(rows, headers=["dataset", "", "data"], tablefmt="simple", maxcolwidths=[None, None, 110])


def availability_rows(data_root: Path | None) -> list[list[str]]:
    """``--list``: per registered dataset, its description, whether its data was found, and the detail."""
    rows = []
    for name in DATASETS.names():
        adapter = get_adapter(name)
        availability = adapter.availability(data_root)
        rows.append([name, adapter.summary, "found" if availability.found else "missing", _reason(availability)])
    return rows
