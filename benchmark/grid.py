"""Grids of runs: expand (methods x datasets x seeds) into specs, run what is not done yet."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Generator, Sequence

from tqdm import tqdm

from benchmark.cpu_threads import torch_threads
from benchmark.executor import Executor, run_spec
from benchmark.number_versions import split_current
from benchmark.protocol import Protocol
from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.spec import RunSpec
from datasets.adapter import DataContext
from datasets.loading import get_adapter, load_dataset
from datasets.missing import dataset_key
from datasets.mmhn import MMHN
from methods.method import METHODS


def plan_grid(
    methods: list[str], datasets: list[str], protocol: Protocol, seeds: int, device: str,
    dataset_options: dict[str, dict[str, Any]] | None = None,
) -> list[RunSpec]:
    """Every (dataset, method, seed) with the method's defaults, in a stable order.

    Seed-major within a dataset (every method's seed 0, then every method's seed 1, ...): a
    grid interrupted part-way leaves all methods with the same seeds, which the paired tests
    of the leaderboard compare.
    """
    specs = []
    for dataset in datasets:
        adapter = get_adapter(dataset)
        split = adapter.default_split
        options = adapter.normalized_options((dataset_options or {}).get(dataset, {}))
        resolved = {method: METHODS.get(method).resolved_config() for method in methods}
        for seed in range(seeds):
            for method, hparams in resolved.items():
                specs.append(
                    RunSpec(method=method, dataset=dataset, split=split, seed=seed, hparams=hparams,
                            max_epochs=protocol.max_epochs, patience=protocol.patience, device=device,
                            dataset_options=options)
                )
    return specs


class DatasetCache:
    """Loads each (dataset, options) once per process, with its content fingerprint."""

    def __init__(self, context: DataContext) -> None:
        self.context = context
        self._loaded: dict[str, tuple[MMHN, str]] = {}

    def get(self, name: str, options: dict) -> tuple[MMHN, str]:
        key = dataset_key(name, options)
        if key not in self._loaded:
            mmhn = load_dataset(name, self.context, options)
            self._loaded[key] = (mmhn, mmhn.fingerprint())
        return self._loaded[key]


def warm_feature_caches(specs: Sequence[RunSpec], context: DataContext) -> None:
    """Load each distinct (dataset, options) of ``specs`` once here, so its features are on disk.

    Before N worker processes start: otherwise each of them, finding the cache cold, encodes
    the same posters and texts at the same time (N-fold the work on a fresh machine). A
    dataset that fails to load is left to the runs, which record the error.
    """
    seen = set()
    for spec in specs:
        key = dataset_key(spec.dataset, spec.dataset_options)
        if key in seen:
            continue
        seen.add(key)
        try:
            load_dataset(spec.dataset, context, spec.dataset_options)
        except Exception:  # noqa: BLE001 - each run reports it
            pass


@dataclass
class GridOutcome:
    records: list[RunRecord] = field(default_factory=list)  # runs executed now
    skipped: list[RunSpec] = field(default_factory=list)  # already finished in the store, at this code's versions


@dataclass(frozen=True)
class InProcessExecutor:
    """Runs one spec after another in this process (``--jobs 1``, and the default).

    ``threads_per_run`` fixes PyTorch's CPU thread count for the runs (see
    ``benchmark.cpu_threads``); ``None`` leaves the process's setting alone.
    """

    threads_per_run: int | None = None

    def run(self, specs: Sequence[RunSpec], context: DataContext) -> Generator[RunRecord, None, None]:
        datasets = DatasetCache(context)
        for spec in specs:
            if self.threads_per_run is None:
                yield run_spec(spec, datasets, context)
            else:
                with torch_threads(self.threads_per_run):
                    record = run_spec(spec, datasets, context)
                yield record


def run_grid(
    specs: list[RunSpec], store: RecordStore, context: DataContext, progress: bool = True, executor: Executor | None = None,
) -> GridOutcome:
    """Run every spec whose id has no successful record of this code's versions yet; append each record as it ends.

    ``executor`` decides where runs execute (default: one after another in this process);
    records are appended here, by this process only, in the order runs finish.
    """
    finished = split_current(store.load()).finished_ids()
    outcome = GridOutcome()
    todo = []
    for spec in specs:
        (outcome.skipped if spec.spec_id in finished else todo).append(spec)
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    # closing(): an interrupted grid stops the executor's workers now, not when collected.
    with bar, closing((executor or InProcessExecutor()).run(todo, context)) as records:
        for record in records:
            store.append(record)
            outcome.records.append(record)
            bar.set_postfix_str(record.spec.label(), refresh=False)
            bar.update()
            if not record.ok:
                bar.write(f"failed: {record.spec.label()}: {record.error}")
    return outcome
