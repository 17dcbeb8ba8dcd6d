"""``results/manifest.json``: what produced the results, and whether the work was interrupted.

Two parts, both rewritten crash-safely (a temporary file renamed over the old one, under a
lock, so concurrent writers never lose each other's entries):

* ``invocations``: one entry appended per grid invocation of ``run_all.py``: command line,
  code version, packages, hardware, start and end (UTC), wall time, runs planned, already
  finished (skipped) and recorded, and a status. An entry is written as ``running`` when the
  invocation starts and completed when it ends; one killed outright stays ``running`` until
  the next invocation on the same host finds its process gone and marks it ``interrupted``.
  ``interrupted_and_resumed`` is true when an interrupted invocation was followed by another.
* ``records``: derived from the records alone (refreshed by every report): counts, seeds,
  splits with their checksums, data fingerprints, code and package versions, devices, and the
  span of the runs' dates.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Iterable, Iterator

import psutil

from benchmark.environment import code_version, cpu_model, host_name, installed_versions
from benchmark.heap_retention import heap_retention_available
from benchmark.number_versions import split_current
from benchmark.portable_paths import portable_command
from benchmark.huge_pages import huge_pages_requested, kernel_huge_page_mode
from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.rows import dataset_label, latest_records, setting_of

MANIFEST_FILE = "manifest.json"
MANIFEST_PACKAGES = (
    "torch", "torch-geometric", "numpy", "scipy", "pandas", "scikit-learn", "optuna", "matplotlib", "seaborn",
    "tabulate", "tqdm", "psutil", "autorank",
)


def package_versions() -> dict[str, str]:
    return dict(installed_versions(MANIFEST_PACKAGES))


def hardware() -> dict[str, Any]:
    import torch

    memory = psutil.virtual_memory().total
    info: dict[str, Any] = {
        "host": host_name(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "memory_gib": round(memory / 2**30, 1),
        "torch_threads": torch.get_num_threads(),
        # where large CPU tensors' memory comes from: changes seconds per epoch, never a result
        "huge_pages": {"requested": huge_pages_requested(), "kernel": kernel_huge_page_mode()},
        "heap_kept": heap_retention_available(),
        "gpus": [],
    }
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            info["gpus"].append({"index": index, "name": properties.name, "memory_gib": round(properties.total_memory / 2**30, 1)})
        info["cuda"] = torch.version.cuda
    return info


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _locked(path: Path) -> Iterator[dict[str, Any]]:
    """Read the manifest under an exclusive lock, yield it for changes, then replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = read_manifest(path)
        yield manifest
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        os.close(lock)


def read_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"invocations": [], "records": {}}
    manifest = json.loads(path.read_text())
    manifest.setdefault("invocations", [])
    manifest.setdefault("records", {})
    return manifest


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _summarise_invocations(manifest: dict[str, Any]) -> None:
    invocations = manifest["invocations"]
    manifest["interrupted_and_resumed"] = any(
        entry["status"] == "interrupted" and i + 1 < len(invocations) for i, entry in enumerate(invocations)
    )
    manifest["total_wall_seconds"] = round(math.fsum(entry.get("wall_seconds") or 0.0 for entry in invocations), 1)


class InvocationLog:
    """Context manager around one grid invocation; appends and completes its manifest entry."""

    def __init__(self, out: Path, command: list[str], store: RecordStore) -> None:
        self.path = Path(out) / MANIFEST_FILE
        self.store = store
        self.command = portable_command(command, Path(out))  # no path of this machine in a tracked file
        self.index = -1
        self._start = 0.0
        self._records_at_start = 0
        self.planned: int | None = None
        self.skipped: int | None = None

    def __enter__(self) -> InvocationLog:
        self._start = time.perf_counter()
        self._records_at_start = self.store.count()
        entry = {
            "command": self.command, "status": "running", "started_at": _now(), "finished_at": None, "wall_seconds": None,
            "host": host_name(), "pid": os.getpid(), "code_version": code_version(), "packages": package_versions(),
            "hardware": hardware(), "records_at_start": self._records_at_start, "runs_recorded": None,
            "runs_planned": None, "runs_already_finished": None,
        }
        with _locked(self.path) as manifest:
            for earlier in manifest["invocations"]:
                if earlier["status"] == "running" and earlier["host"] == entry["host"] and not _process_alive(earlier["pid"]):
                    earlier["status"] = "interrupted"  # killed outright (e.g. kill -9, power loss)
                    earlier["runs_recorded"] = self._records_at_start - earlier["records_at_start"]
                    earlier["note"] = "ended without finishing; runs_recorded inferred from the next invocation"
            entry["resumes_interrupted"] = any(e["status"] == "interrupted" for e in manifest["invocations"])
            manifest["invocations"].append(entry)
            self.index = len(manifest["invocations"]) - 1
            _summarise_invocations(manifest)
        return self

    def planned_runs(self, planned: int, already_finished: int) -> None:
        """Written at once, so that an invocation killed later still says what it set out to do."""
        self.planned, self.skipped = planned, already_finished
        with _locked(self.path) as manifest:
            manifest["invocations"][self.index].update(runs_planned=planned, runs_already_finished=already_finished)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if kind is None:
            status = "completed"
        elif issubclass(kind, KeyboardInterrupt):
            status = "interrupted"
        else:
            status = "failed"
        with _locked(self.path) as manifest:
            entry = manifest["invocations"][self.index]
            entry.update({
                "status": status, "finished_at": _now(), "wall_seconds": round(time.perf_counter() - self._start, 1),
                "runs_recorded": self.store.count() - self._records_at_start,
                "runs_planned": self.planned, "runs_already_finished": self.skipped,
            })
            if status == "failed" and error is not None:
                entry["error"] = f"{kind.__name__}: {error}"  # type: ignore[union-attr]
            _summarise_invocations(manifest)


def records_summary(records: Iterable[RunRecord]) -> dict[str, Any]:
    """Everything the manifest says that follows from the records alone (deterministic)."""
    records = list(records)
    latest = latest_records(records)
    stale = len(split_current(records).stale)
    splits: dict[tuple[str, str], set[str]] = defaultdict(set)
    fingerprints: dict[str, set[str]] = defaultdict(set)
    seeds: dict[str, set[int]] = defaultdict(set)
    packages: dict[str, Counter[str]] = defaultdict(Counter)
    for r in latest:
        dataset = dataset_label(r.spec.dataset, r.spec.dataset_options)
        if r.split_checksum:
            splits[(dataset, r.spec.split)].add(r.split_checksum)
        if r.data_fingerprint:
            fingerprints[dataset].add(r.data_fingerprint)
        seeds[dataset].add(r.spec.seed)
        for package, version in r.versions.items():
            if package != "code":
                packages[package][version] += 1
    return {
        "runs": len(latest),
        "ok": sum(r.ok for r in latest),
        "failed": sum(not r.ok for r in latest),
        "stale": stale,  # spec ids whose last record is of other code versions (not in any table)
        "other_settings": sum(bool(setting_of(r.spec)) for r in latest),
        "first_started_at": min((r.started_at for r in latest if r.started_at), default=None),
        "last_finished_at": max((r.finished_at for r in latest if r.finished_at), default=None),
        "seeds": {dataset: sorted(values) for dataset, values in sorted(seeds.items())},
        "splits": [
            {"dataset": dataset, "split": split, "checksums": sorted(checksums), "consistent": len(checksums) == 1}
            for (dataset, split), checksums in sorted(splits.items())
        ],
        "data_fingerprints": {dataset: sorted(values) for dataset, values in sorted(fingerprints.items())},
        "code_versions": dict(sorted(Counter(r.versions.get("code", "unknown") for r in latest).items())),
        "package_versions": {package: dict(sorted(counts.items())) for package, counts in sorted(packages.items())},
        "devices": dict(sorted(Counter(r.cost.device_name for r in latest if r.cost is not None).items())),
        "hosts": dict(sorted(Counter(r.host for r in latest if r.host).items())),
    }


def refresh_records_summary(out: Path, records: Iterable[RunRecord]) -> Path:
    path = Path(out) / MANIFEST_FILE
    summary = records_summary(records)
    with _locked(path) as manifest:
        manifest["records"] = summary
        _summarise_invocations(manifest)
    return path


def command_line(argv: list[str] | None) -> list[str]:
    return ["run_all.py", *(sys.argv[1:] if argv is None else argv)]
