"""``run_all.py --tune METHOD|all``: parse and check the tuning options, run the studies, report.

Every study is checked before any training starts: a malformed or unreachable storage, or
an existing study of that name with other settings, is a one-line error with exit status 2.
Then, per (method, dataset), one study: in this process (``--workers 1``, the default) or
in ``--workers K`` worker processes (``--gpus`` puts one on each listed GPU) that share it
through the storage, while this process shows progress on one line. At the end it writes
``<out>/tuned/<method>__<dataset>.json`` and the figures in ``<out>/tuning/``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna.storages import BaseStorage
from tabulate import tabulate
from tqdm import tqdm

from benchmark.environment import REPO_ROOT, DeviceError, resolve_device
from benchmark.grid import DatasetCache
from benchmark.tuning import (
    PRUNERS,
    StudyMismatchError,
    Tally,
    TuningJob,
    check_compatible,
    file_stem,
    open_study,
    run_worker,
)
from benchmark.tuning_figures import write_study_figures
from benchmark.tuning_objective import TrialObjective, tuning_seeds
from benchmark.tuning_result import TunedConfig, summarize_study, write_tuned
from benchmark.tuning_settings import StudySettings, search_space_of
from benchmark.tuning_storage import StorageError, default_location, open_storage, parse_location
from datasets.adapter import DataContext
from datasets.loading import get_adapter

if TYPE_CHECKING:
    from benchmark.cli import GridArgs

TUNING_DIR = "tuning"
DEFAULT_TRIALS = 20
DEFAULT_TUNING_SEEDS = 3
DEFAULT_HEARTBEAT_S = 30


class TuningInputError(ValueError):
    """A bad tuning option; printed as one line, exit status 2 (like the CLI's UsageError)."""


def add_tuning_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tuning (Optuna; validation Macro-F1 only)")
    group.add_argument("--tune", metavar="METHOD", help="tune a registered method (or 'all', each with the same budget) on --datasets")
    group.add_argument("--n-trials", metavar="N", help=f"budget: finished trials per study, over all workers (default {DEFAULT_TRIALS} unless --timeout alone)")
    group.add_argument("--timeout", metavar="SECONDS", help="budget: seconds per study for this invocation; no new trial starts after it")
    group.add_argument("--storage", metavar="URL|FILE", help="Optuna storage URL (postgresql://..., sqlite:///...) or a .db/.log file "
                                         "(default: <out>/tuning/optuna.db, or optuna-journal.log with several workers)")
    group.add_argument("--study-name", metavar="NAME", help="study name (default <method>__<dataset>; a prefix when several studies)")
    group.add_argument("--workers", metavar="K", help="worker processes sharing each study (default 1, or one per --gpus entry)")
    group.add_argument("--gpus", metavar="I,J,...", help="comma-separated CUDA device indices: one worker per GPU (round-robin with --workers)")
    group.add_argument("--pruner", metavar="NAME", default="median", help=f"one of: {', '.join(PRUNERS)} (default median)")
    group.add_argument("--tuning-seeds", metavar="N", default=str(DEFAULT_TUNING_SEEDS), help=f"runs per trial (default {DEFAULT_TUNING_SEEDS}); seeds 10000.. never reported")
    group.add_argument("--sampler-seed", metavar="SEED", default="0", help="seed of the TPE sampler (default 0)")
    group.add_argument("--heartbeat", metavar="SECONDS", default=str(DEFAULT_HEARTBEAT_S),
                       help=f"seconds between a running trial's heartbeats; a trial silent for 3x this is failed and retried (default {DEFAULT_HEARTBEAT_S})")
    group.add_argument("--use-tuned", action="store_true", help="run the reported seeds with <out>/tuned/<method>__<dataset>.json instead of the defaults")


@dataclass(frozen=True)
class TuningArgs:
    jobs: list[TuningJob]
    worker_devices: list[str]  # one entry per worker process; a single entry runs in this process
    out: Path
    context: DataContext
    progress: bool


def _positive_int(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise TuningInputError(f"{name} {value!r} is not a positive integer")
    return int(value)


def _positive_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise TuningInputError(f"--timeout {value!r} is not a positive number of seconds")
    return seconds


def _worker_devices(args: argparse.Namespace, device: str, workers: int | None) -> list[str]:
    if args.gpus is None:
        return [device] * (workers or 1)
    if args.device not in ("auto", "cuda"):
        raise TuningInputError(f"--gpus places workers on CUDA devices; it cannot be combined with --device {args.device}")
    indices = [g.strip() for g in args.gpus.split(",") if g.strip()]
    if not indices or not all(g.isdigit() for g in indices):
        raise TuningInputError(f"--gpus {args.gpus!r} is malformed; expected CUDA device indices such as 0,1")
    devices = []
    for index in dict.fromkeys(indices):
        try:
            devices.append(resolve_device(f"cuda:{index}"))
        except DeviceError as error:
            raise TuningInputError(f"--gpus {args.gpus}: {error}") from None
    count = workers or len(devices)
    return [devices[i % len(devices)] for i in range(count)]


def _study_name(prefix: str | None, method: str, dataset: str, options: dict[str, Any], protocol: str, several: bool) -> str:
    if prefix and not several:
        return prefix
    name = f"{method}__{dataset}"
    if options:
        name += "[" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + "]"
    if protocol != "standard":
        name += f"__{protocol}"
    return f"{prefix}__{name}" if prefix else name


def parse_tuning_args(args: argparse.Namespace, grid: GridArgs) -> TuningArgs:
    """Check every tuning option, then connect to the storage and check each study's settings."""
    if args.use_tuned:
        raise TuningInputError("--use-tuned runs reported seeds with tuned configurations; tune first (--tune), then run with --use-tuned")
    n_trials = _positive_int("--n-trials", args.n_trials)
    timeout = _positive_seconds(args.timeout)
    if n_trials is None and timeout is None:
        n_trials = DEFAULT_TRIALS
    workers = _positive_int("--workers", args.workers)
    seeds = _positive_int("--tuning-seeds", args.tuning_seeds) or DEFAULT_TUNING_SEEDS
    heartbeat = _positive_int("--heartbeat", args.heartbeat) or DEFAULT_HEARTBEAT_S
    if args.pruner not in PRUNERS:
        raise TuningInputError(f"unknown pruner {args.pruner!r}; valid: {', '.join(PRUNERS)}")
    if not args.sampler_seed.strip().lstrip("-").isdigit():
        raise TuningInputError(f"--sampler-seed {args.sampler_seed!r} is not an integer")
    if not grid.datasets:
        raise TuningInputError("no dataset to tune on; --datasets found none available")
    for dataset in grid.datasets:
        availability = get_adapter(dataset).availability(grid.context.data_root)
        if not availability.found:
            raise TuningInputError(f"dataset {dataset!r} cannot be tuned on: {availability.detail}")
    devices = _worker_devices(args, grid.device, workers)
    try:
        location = parse_location(args.storage) if args.storage else default_location(grid.out / TUNING_DIR, len(devices))
    except StorageError as error:
        raise TuningInputError(str(error)) from None
    if len(devices) > 1 and location.target.startswith("sqlite:"):
        raise TuningInputError(f"--storage {location.display()} is SQLite, which parallel workers lock up (\"database is locked\"); "
                               "with several workers use a journal file (.log) or a database server such as PostgreSQL")
    several = len(grid.methods) * len(grid.datasets) > 1
    jobs = []
    for method in grid.methods:
        space = search_space_of(method)
        for dataset in grid.datasets:
            adapter = get_adapter(dataset)
            options = adapter.normalized_options(grid.dataset_options.get(dataset, {}))
            settings = StudySettings(method=method, dataset=dataset, dataset_options=options, split=adapter.default_split,
                                     max_epochs=grid.protocol.max_epochs, patience=grid.protocol.patience, tuning_seeds=tuning_seeds(seeds),
                                     search_space=space, pruner=args.pruner, sampler_seed=int(args.sampler_seed))
            name = _study_name(args.study_name, method, dataset, options, grid.protocol.name, several)
            jobs.append(TuningJob(settings, name, location, n_trials, timeout, heartbeat, devices[0], grid.protocol.name))
    try:
        storage = open_storage(location, heartbeat)
        for job in jobs:
            check_compatible(storage, job.study_name, job.settings, location)
    except (StorageError, StudyMismatchError) as error:
        raise TuningInputError(str(error)) from None
    return TuningArgs(jobs, devices, grid.out, grid.context, grid.progress)


def run_tuning(targs: TuningArgs) -> int:
    start = time.perf_counter()
    job0 = targs.jobs[0]
    storage_text = job0.storage.display()
    workers = len(targs.worker_devices)
    print(f"tuning {len(targs.jobs)} stud{'y' if len(targs.jobs) == 1 else 'ies'} in {storage_text} with {workers} worker(s) on "
          f"{', '.join(dict.fromkeys(targs.worker_devices))}; budget {_budget_text(job0)} per study")
    rows, failures = [], 0
    cache = DatasetCache(targs.context)
    for job in targs.jobs:
        study_start = time.perf_counter()
        storage = open_storage(job.storage, job.heartbeat_s)
        study = open_study(job, storage)  # created here, before any worker races to create it
        try:
            tally = _tune_here(job, targs, cache, storage) if workers == 1 else _tune_in_workers(job, targs, storage)
        except KeyboardInterrupt:
            finished = Tally.of(study.get_trials(deepcopy=False)).finished
            print(f"\ninterrupted: study {job.study_name!r} keeps its {finished} finished trials; the same command continues it")
            return 130
        config = summarize_study(job, study, time.perf_counter() - study_start)
        figures, skipped = write_study_figures(study, targs.out / TUNING_DIR)
        for reason in skipped:
            print(f"  {job.study_name}: no figure for {reason}")
        if config is None:
            failures += 1
            print(f"  {job.study_name}: no trial completed ({_tally_text(tally)}); nothing written")
            continue
        path = write_tuned(config, targs.out)
        rows.append(_summary_row(config, path, figures))
    print()
    if rows:
        print(tabulate(rows, headers=["method", "dataset", "best val Macro-F1", "trials (pruned, failed, lost)", "best trial", "wall s", "tuned config"],
                       tablefmt="simple", disable_numparse=True))
    print(f"\nwall time {time.perf_counter() - start:.1f} s; storage {storage_text}")
    if job0.storage.is_local_file:
        print(f"dashboard: optuna-dashboard {job0.storage.target}")
    return 1 if failures else 0


def _tune_here(job: TuningJob, targs: TuningArgs, cache: DatasetCache, storage: BaseStorage) -> Tally:
    mmhn, fingerprint = cache.get(job.settings.dataset, job.settings.dataset_options)
    objective = TrialObjective(job.settings, targs.worker_devices[0], mmhn, Path(targs.context.cache_dir), fingerprint)
    with _ProgressLine(job, targs.progress) as progress:
        return run_worker(job, storage, objective, on_progress=progress.update)


def _tune_in_workers(job: TuningJob, targs: TuningArgs, storage: BaseStorage) -> Tally:
    """K worker processes on one study; this process only watches the storage and shows progress."""
    logs = targs.out / TUNING_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // len(targs.worker_devices))
    processes = []
    for index, device in enumerate(targs.worker_devices):
        command = [sys.executable, "-m", "benchmark.tuning_worker", "--job", json.dumps(job.to_json()), "--device", device,
                   "--cache-dir", str(targs.context.cache_dir), "--threads", str(threads)]
        if targs.context.data_root is not None:
            command += ["--data-root", str(targs.context.data_root)]
        log_path = logs / f"{file_stem(job.study_name)}.worker{index}.log"
        with open(log_path, "w") as log:
            processes.append((subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT), log_path))
    tally = Tally()
    try:
        with _ProgressLine(job, targs.progress) as progress:
            while any(p.poll() is None for p, _ in processes):
                tally = _read_tally(storage, job)
                progress.update(tally)
                time.sleep(1.0)
            tally = _read_tally(storage, job)
            progress.update(tally)
    except KeyboardInterrupt:
        for process, _ in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # each marks its running trial interrupted
        for process, _ in processes:
            process.wait(timeout=30)
        raise
    for process, log_path in processes:
        if process.returncode != 0:
            last = (log_path.read_text().strip().splitlines() or ["(no output)"])[-1]
            print(f"  worker exited with status {process.returncode}: {last} (log: {log_path})")
    return tally


def _read_tally(storage: BaseStorage, job: TuningJob) -> Tally:
    try:
        study_id = storage.get_study_id_from_name(job.study_name)
    except KeyError:
        return Tally()  # the workers have not created it yet
    return Tally.of(storage.get_all_trials(study_id, deepcopy=False))


class _ProgressLine:
    """One line per study: trials done of the budget, pruned, failed, best so far."""

    def __init__(self, job: TuningJob, enabled: bool) -> None:
        self.job = job
        s = job.settings
        self.bar = tqdm(total=job.n_trials, desc=f"tune {s.method} on {s.dataset}", unit="trial", disable=not enabled, dynamic_ncols=True)

    def __enter__(self) -> _ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def update(self, tally: Tally) -> None:
        self.bar.n = tally.finished if self.job.n_trials is None else min(tally.finished, self.job.n_trials)
        self.bar.set_postfix_str(_tally_text(tally), refresh=False)
        self.bar.refresh()


def _tally_text(tally: Tally) -> str:
    best = "none yet" if tally.best_value is None else f"{tally.best_value:.4f} (trial {tally.best_number})"
    text = f"{tally.pruned} pruned, {tally.failed} failed, {tally.running} running, best val Macro-F1 {best}"
    return text + (f", {tally.lost} lost" if tally.lost else "")


def _budget_text(job: TuningJob) -> str:
    parts = []
    if job.n_trials is not None:
        parts.append(f"{job.n_trials} trials")
    if job.timeout_s is not None:
        parts.append(f"{job.timeout_s:g} s")
    seeds = len(job.settings.tuning_seeds)
    return " or ".join(parts) + f" x {seeds} tuning seed{'s' if seeds > 1 else ''}, {job.protocol} protocol, {job.settings.pruner} pruner"


def _summary_row(config: TunedConfig, path: Path, figures: list[Path]) -> list[str]:
    t = config.trials
    return [config.method, config.dataset, f"{100 * config.best_val_macro_f1:.2f}",
            f"{config.trials_used} ({t['pruned']}, {t['failed']}, {t['lost']})", str(config.best_trial), f"{config.wall_time_s:.1f}",
            str(path) + (f" (+{len(figures)} figures)" if figures else "")]
