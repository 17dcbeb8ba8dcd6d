"""The one interface ``run_grid`` uses to execute runs, wherever they execute.

An executor takes the specs still to run and yields one record per spec as each finishes,
in any order; ``run_grid`` appends every record to the store the moment it arrives, so an
interrupted grid keeps everything that finished and the next invocation runs only the rest.
Implementations: in this process (``benchmark.grid.InProcessExecutor``), a local process
pool (``benchmark.local_pool``) and a Ray cluster (``benchmark.ray_executor``).

A run whose method fails is an ordinary ``failed`` record (``execute_run`` never raises). A
run whose *process* dies (killed, out of memory, a segfault, a lost node) is started again,
up to ``max_retries`` more times, and then recorded as ``failed`` with the reason: a grid
never hangs on, loses or duplicates a run.
"""

from __future__ import annotations

import importlib
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Generator, Protocol, Sequence

from benchmark.environment import host_name, package_versions
from benchmark.number_versions import NumberVersions
from benchmark.record import RunRecord
from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.adapter import DataContext

if TYPE_CHECKING:
    from benchmark.grid import DatasetCache

DEFAULT_MAX_RETRIES = 2


class Executor(Protocol):
    def run(self, specs: Sequence[RunSpec], context: DataContext) -> Generator[RunRecord, None, None]:
        """Execute every spec once; yield each record as soon as its run has finished."""
        ...


def run_spec(spec: RunSpec, datasets: DatasetCache, context: DataContext) -> RunRecord:
    """Load the spec's dataset (once per process) and execute the run; never raises for a bad run.

    A dataset that fails to load fails the runs that need it, with the error, and the grid
    goes on with the others.
    """
    try:
        mmhn, fingerprint = datasets.get(spec.dataset, spec.dataset_options)
    except Exception as error:  # noqa: BLE001 - recorded, like a failing method
        return failed_record(spec, "loading the dataset: " + traceback.format_exception_only(type(error), error)[-1].strip())
    return execute_run(spec, mmhn, Path(context.cache_dir), fingerprint, store_plain_weights=context.store_plain_weights)


def failed_record(spec: RunSpec, error: str) -> RunRecord:
    """The record of a run that produced no result (its process died, or its data did not load)."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return RunRecord(spec=spec, spec_id=spec.spec_id, status="failed", error=error, versions=package_versions(),
                     started_at=now, finished_at=now, host=host_name(), number_versions=NumberVersions.stored(spec.method))


def import_modules(names: Sequence[str]) -> None:
    """Import modules that register extra methods or datasets, in a worker process.

    Methods and datasets in ``methods/`` and ``datasets/`` are found on import; one registered
    elsewhere (a plug-in package, a test) must be imported in each worker, too.
    """
    for name in names:
        importlib.import_module(name)
