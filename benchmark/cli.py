"""The command line of ``run_all.py``: parse, check every input, then run and report.

Every bad input is caught before anything is written and reported as one line naming the
bad value and the valid choices, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Sequence

from tabulate import tabulate

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN, torch_threads
from benchmark.dataset_choice import DatasetChoiceError, availability_rows, choose_datasets, opening_table
from benchmark.environment import DeviceError, resolve_device
from benchmark.execution_options import ExecutionOptionError, add_execution_arguments, executor_from_args, run_device
from benchmark.executor import Executor
from benchmark.grid import DatasetCache, plan_grid, run_grid
from benchmark.huge_pages import request_huge_pages
from benchmark.manifest import InvocationLog, command_line
from benchmark.missing_sweep import MissingSweep, add_sweep_arguments, plan_missing_sweep, sweep_from_args
from benchmark.number_versions import split_current, staleness
from benchmark.protocol import PROTOCOLS, Protocol
from benchmark.record import RunRecord
from benchmark.record_store import RecordStore
from benchmark.report import TERMINAL_HEADERS, leaderboard_rows, terminal_rows, write_report
from benchmark.robustness_report import console_table
from benchmark.run_plan import make_plan
from benchmark.spec import RunSpec
from benchmark.termination import sigterm_as_interrupt
from benchmark.tuning_cli import TuningInputError, add_tuning_arguments, parse_tuning_args, run_tuning
from benchmark.tuning_result import TunedConfigError, use_tuned
from benchmark.verify import Match, VerifySummary, describe, draw, verify_record
from datasets.adapter import DATASETS, DataContext
from datasets.download import download_datasets, real_dataset_names
from datasets.loading import get_adapter, load_dataset
from datasets.snapshot import write_snapshot
from methods.method import METHODS

LEADERBOARD_FILE = "leaderboard.md"
DEFAULT_CACHE = Path(os.environ.get("MMHN_CACHE_DIR", Path.home() / ".cache" / "mmhn-bench"))


class UsageError(ValueError):
    """A bad command-line value; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="run_all.py", description="mmhn-bench: node classification on multi-modal heterogeneous networks")
    parser.add_argument("--methods", default="all", help="'all' or a comma-separated list of registered methods")
    parser.add_argument("--datasets", default="available", help="'available' (default: every dataset whose data is found), 'all', or a comma-separated list")
    parser.add_argument("--seeds", default=None, help="number of seeds N (runs use seeds 0..N-1); default from the protocol")
    parser.add_argument("--protocol", default="standard", help=f"one of: {', '.join(PROTOCOLS)}")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:<index>")
    parser.add_argument("--out", default="results", help="output folder for records and reports (default: results/)")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"), help="folder with the raw real data (default: $MMHN_DATA_ROOT)")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="processed graphs and features (default: $MMHN_CACHE_DIR or ~/.cache/mmhn-bench)")
    parser.add_argument("--dataset-option", action="append", default=[], metavar="DATASET:KEY=VALUE",
                        help="override a dataset option, e.g. synthetic:scale=4 (repeatable)")
    parser.add_argument("--list", action="store_true", help="list methods and datasets, then exit")
    parser.add_argument("--download", action="store_true", help="fetch the raw files of --datasets (default: all real ones) into --data-root from --data-url, then exit")
    parser.add_argument("--data-url", default=os.environ.get("MMHN_DATA_URL"), help="base URL of a mirror of the data-root layout (default: $MMHN_DATA_URL)")
    parser.add_argument("--snapshot-dir", default=os.environ.get("MMHN_SNAPSHOT_DIR"),
                        help="read processed graphs from snapshot files here when present (default: $MMHN_SNAPSHOT_DIR)")
    parser.add_argument("--export-snapshots", metavar="DIR", help="write the processed graph of each of --datasets to DIR, then exit")
    parser.add_argument("--report", action="store_true", help="rebuild the leaderboard from the records in --out, then exit")
    parser.add_argument("--verify", metavar="N", default=None,
                        help="train N records of --out (of --datasets) again, picked by a seeded draw, and compare their selected epoch, "
                             "validation and test Macro-F1 with the record; exit 1 if any differs. Writes nothing")
    parser.add_argument("--verify-seed", type=int, default=0, metavar="S", help="seed of --verify's draw (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_execution_arguments(parser)
    add_tuning_arguments(parser)
    add_sweep_arguments(parser)
    return parser


@dataclass(frozen=True)
class GridArgs:
    methods: list[str]
    datasets: list[str]
    skipped_datasets: dict[str, str]
    protocol: Protocol
    seeds: int
    device: str
    out: Path
    context: DataContext
    progress: bool
    dataset_options: dict[str, dict[str, Any]]
    executor: Executor | None = None  # where runs execute (--jobs, --ray); None: in this process
    missing: MissingSweep | None = None  # --missing sweep


def _names(value: str, registry_names: list[str], kind: str) -> list[str]:
    if value == "all":
        return list(registry_names)
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise UsageError(f"--{kind}s is empty; valid: all, {', '.join(registry_names)}")
    for name in names:
        if name not in registry_names:
            raise UsageError(f"unknown {kind} {name!r}; valid: all, {', '.join(registry_names)}")
    return list(dict.fromkeys(names))


def _datasets(value: str, data_root: Path | None, snapshot_dir: Path | None = None) -> tuple[list[str], dict[str, str]]:
    try:
        return choose_datasets(value, data_root, snapshot_dir)
    except DatasetChoiceError as error:
        raise UsageError(str(error)) from None


def _seeds(value: str | None, protocol: Protocol) -> int:
    if value is None:
        return protocol.seeds
    if not value.strip().isdigit() or int(value) < 1:
        raise UsageError(f"--seeds {value!r} is not a positive integer (the number of seeds; runs use seeds 0..N-1)")
    return int(value)


def _out_dir(value: str) -> Path:
    out = Path(value)
    for parent in [out, *out.parents]:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"--out {value!r}: {str(parent)!r} is a file, not a folder")
    return out


def option_value(text: str) -> Any:
    """A command-line value: JSON when it parses (numbers, booleans, lists), else the bare word."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word is a string


def _dataset_options(values: list[str], datasets: list[str]) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for value in values:
        dataset, sep, assignment = value.partition(":")
        key, eq, raw = assignment.partition("=")
        if not sep or not eq or not key:
            raise UsageError(f"--dataset-option {value!r} is malformed; expected DATASET:KEY=VALUE, e.g. synthetic:scale=4")
        if dataset not in datasets:
            raise UsageError(f"--dataset-option {value!r} names dataset {dataset!r}, which is not in this run; datasets: {', '.join(datasets)}")
        options.setdefault(dataset, {})[key] = option_value(raw)
    for dataset, overrides in options.items():
        try:
            get_adapter(dataset).options(overrides)
        except (TypeError, ValueError) as error:
            raise UsageError(str(error)) from None
    return options


def parse_grid_args(args: argparse.Namespace) -> GridArgs:
    if args.protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {args.protocol!r}; valid: {', '.join(PROTOCOLS)}")
    protocol = PROTOCOLS[args.protocol]
    data_root = Path(args.data_root) if args.data_root else None
    if data_root is not None and not data_root.is_dir():
        raise UsageError(f"--data-root {args.data_root!r} is not a folder")
    methods = _names(args.methods, METHODS.names(), "method")
    snapshot_dir = Path(args.snapshot_dir) if args.snapshot_dir else None
    datasets, skipped = _datasets(args.datasets, data_root, snapshot_dir)
    seeds = _seeds(args.seeds, protocol)
    try:
        device = run_device(args.device, args) if args.ray else resolve_device(args.device)
    except (DeviceError, ExecutionOptionError) as error:
        raise UsageError(str(error)) from None
    out = _out_dir(args.out)
    options = _dataset_options(args.dataset_option, datasets)
    try:
        missing = sweep_from_args(args)
    except ValueError as error:
        raise UsageError(str(error)) from None
    context = DataContext(data_root=data_root, cache_dir=Path(args.cache_dir), snapshot_dir=snapshot_dir,
                          progress=not args.no_progress, store_plain_weights=missing is not None and "test_only" in missing.settings)
    try:
        executor = executor_from_args(args)  # last: with --ray it joins the cluster
    except ExecutionOptionError as error:
        raise UsageError(str(error)) from None
    return GridArgs(methods, datasets, skipped, protocol, seeds, device, out, context, not args.no_progress, options, executor, missing)


def list_entries(data_root: Path | None) -> str:
    methods = [[name, METHODS.get(name).summary] for name in METHODS.names()]
    datasets = availability_rows(data_root)
    return "\n".join([
        tabulate(methods, headers=["method", "description"], tablefmt="simple"),
        "",
        tabulate(datasets, headers=["dataset", "description", "data", "detail"], tablefmt="simple", maxcolwidths=[None, 50, None, 70]),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    request_huge_pages()  # before any data is loaded: PyTorch reads it at its first large allocation
    try:
        args = build_parser().parse_args(argv)
        if args.list:
            data_root = Path(args.data_root) if args.data_root else None
            print(list_entries(data_root))
            return 0
        if args.download:
            return download(args)
        if args.export_snapshots:
            return export_snapshots(args)
        if args.verify is not None:
            return verify(args)
        if args.report:
            out = _out_dir(args.out)
            store = RecordStore(out)
            if not store.exists():
                raise UsageError(f"no records in {store.root} (nor a {store.legacy}); run a grid first")
            print(f"wrote {write_report(store.load(), out, LEADERBOARD_FILE)}")
            return 0
        if args.tune is not None:
            args.methods = args.tune  # --tune names the methods
        grid = parse_grid_args(args)
        if args.tune is not None:
            tuning = parse_tuning_args(args, grid)
        else:
            specs = plan(grid)
            if args.use_tuned:
                specs = use_tuned(specs, grid.out, grid.protocol.name)
    except (UsageError, TuningInputError, TunedConfigError) as error:
        print(f"run_all.py: error: {error}", file=sys.stderr)
        return 2
    with sigterm_as_interrupt():
        if args.tune is not None:
            return run_tuning(tuning)
        try:
            return run(grid, specs, command_line(None if argv is None else list(argv)))
        except KeyboardInterrupt as stop:
            # the manifest already says interrupted; every finished run is in the record store
            print(f"\ninterrupted ({str(stop) or 'Ctrl-C'}): finished runs are kept in {RecordStore(grid.out).root}; "
                  "the same command resumes the rest", file=sys.stderr)
            return 130


def verify(args: argparse.Namespace) -> int:
    """``--verify N``: re-run N records drawn with ``--verify-seed`` and say whether each still comes out."""
    text = str(args.verify).strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--verify {args.verify!r} is not a positive integer (the number of records to re-run)")
    out = _out_dir(args.out)
    store = RecordStore(out)
    data_root = Path(args.data_root) if args.data_root else None
    datasets, _ = _datasets(args.datasets, data_root, Path(args.snapshot_dir) if args.snapshot_dir else None)
    candidates = [r for r in store.latest().values() if r.spec.dataset in datasets]
    picked = draw(candidates, int(text), args.verify_seed)
    if not picked:
        raise UsageError(f"--verify: no successful record of {', '.join(datasets)} in {store.root}; nothing to re-run")
    print(f"re-running {len(picked)} of {len(candidates)} records in {store.root} (draw seed {args.verify_seed}, "
          f"{DEFAULT_THREADS_PER_RUN} thread per run, as the grids run)")
    context = DataContext(data_root=data_root, cache_dir=Path(args.cache_dir), snapshot_dir=Path(args.snapshot_dir) if args.snapshot_dir else None,
                          progress=not args.no_progress)
    cache = DatasetCache(context)
    results = []
    with torch_threads(DEFAULT_THREADS_PER_RUN):
        for index, record in enumerate(picked, start=1):
            result = verify_record(record, cache)
            results.append(result)
            status = staleness(record)
            print(f"[{index}/{len(picked)}] {record.spec_id}  {record.spec.label()}  ({'current' if status is None else 'stale: ' + status})")
            print(f"  recorded: {describe(record)}  (code {record.versions.get('code', '?')})")
            print(f"  now:      {describe(result.now)}")
            detail = "" if result.match is Match.EXACT else ": " + "; ".join(result.differences)
            print(f"  {result.match.value}{detail}", flush=True)
    summary = VerifySummary(results)
    print(summary.text())
    return 0 if summary.ok else 1


def download(args: argparse.Namespace) -> int:
    if not args.data_root or not args.data_url:
        raise UsageError("--download needs --data-root DIR (or MMHN_DATA_ROOT) and --data-url URL (or MMHN_DATA_URL)")
    names = real_dataset_names() if args.datasets in ("available", "all") else _names(args.datasets, DATASETS.names(), "dataset")
    report = download_datasets(names, Path(args.data_root), args.data_url, progress=not args.no_progress)
    print(f"{report.fetched} file(s) fetched ({report.resumed} resumed), {report.present} already in place, {len(report.failed)} failed")
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if report.failed else 0


def export_snapshots(args: argparse.Namespace) -> int:
    """Write the processed graph of each of --datasets (with its --dataset-option) to a snapshot file."""
    data_root = Path(args.data_root) if args.data_root else None
    datasets, _ = _datasets(args.datasets, data_root)
    options = _dataset_options(args.dataset_option, datasets)
    context = DataContext(data_root=data_root, cache_dir=Path(args.cache_dir), progress=not args.no_progress)
    for name in datasets:
        normalized = get_adapter(name).normalized_options(options.get(name, {}))
        path = write_snapshot(load_dataset(name, context, normalized), name, normalized, Path(args.export_snapshots))
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return 0


def plan(grid: GridArgs) -> list[RunSpec]:
    """The run specs of the grid; with ``--missing sweep`` every point of every curve."""
    specs = plan_grid(grid.methods, grid.datasets, grid.protocol, grid.seeds, grid.device, grid.dataset_options)
    if grid.missing is None:
        return specs
    cache = DatasetCache(grid.context)
    try:
        return plan_missing_sweep(specs, grid.missing, lambda name: cache.get(name, grid.dataset_options.get(name, {}))[0].modalities)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run(grid: GridArgs, specs: list[RunSpec] | None = None, command: list[str] | None = None) -> int:
    start = time.perf_counter()
    print(opening_table(grid.datasets, grid.skipped_datasets, grid.context.data_root, grid.context.snapshot_dir), end="\n\n")
    specs = plan(grid) if specs is None else specs
    store = RecordStore(grid.out)
    run_plan = make_plan(specs, store.load())
    print("\n".join(run_plan.lines(grid.out, getattr(grid.executor, "jobs", 1))), end="\n\n", flush=True)
    wanted = {s.spec_id for s in specs}
    if not run_plan.to_train:
        # Nothing is written: a no-op leaves the folder (and a checkout's git status) as it was.
        _print_results(grid, run_plan.reused, wanted)
        print(f"\n0 runs trained, {len(run_plan.reused)} reused; wall time {time.perf_counter() - start:.1f} s")
        return 0
    # The manifest logs this invocation (start, end, runs, interrupted or not) around the grid.
    with InvocationLog(grid.out, command or command_line(None), store) as invocation:
        invocation.planned_runs(len(specs), len(run_plan.reused))
        outcome = run_grid(specs, store, grid.context, progress=grid.progress, executor=grid.executor)
    records = store.load()
    leaderboard = write_report(records, grid.out, LEADERBOARD_FILE)
    print()
    _print_results(grid, split_current(records).current, wanted)
    failed = sum(not r.ok for r in outcome.records)
    print(
        f"\n{len(outcome.records)} runs done ({failed} failed), {len(outcome.skipped)} reused; "
        f"wall time {time.perf_counter() - start:.1f} s; leaderboard: {leaderboard}"
    )
    return 0


def _print_results(grid: GridArgs, current: list[RunRecord], wanted: set[str]) -> None:
    """The grid's rows (and its curves, for a sweep) from the current records of its specs."""
    mine = [r for r in current if r.spec_id in wanted]
    print(tabulate(terminal_rows(leaderboard_rows(mine)), headers=TERMINAL_HEADERS, tablefmt="simple", disable_numparse=True))
    if grid.missing is not None:
        print()
        print(console_table(mine))
