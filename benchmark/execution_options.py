"""Command-line options that choose where runs execute: ``--jobs``, ``--ray`` and their settings.

Checked before anything runs; a bad combination raises :class:`ExecutionOptionError`, which
the command line prints as one line naming the bad value (exit status 2).
"""

from __future__ import annotations

import argparse
import os

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN, available_cpus
from benchmark.environment import DeviceError, resolve_device
from benchmark.executor import DEFAULT_MAX_RETRIES, Executor
from benchmark.grid import InProcessExecutor
from benchmark.local_pool import LocalPoolExecutor


class ExecutionOptionError(ValueError):
    pass


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", default=os.environ.get("MMHN_JOBS", "auto"),
                        help="runs at once on this machine, each in its own process; 1: one after another in this process; "
                             "'auto' (default, or $MMHN_JOBS): as many as the CPUs allow at --threads-per-run each")
    parser.add_argument("--threads-per-run", default=str(DEFAULT_THREADS_PER_RUN),
                        help=f"CPU threads of one run, fixed so that results do not depend on --jobs (default {DEFAULT_THREADS_PER_RUN})")
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="run on a Ray cluster: 'auto' (the cluster started on this machine), HOST:PORT of its head, or 'local'")
    parser.add_argument("--cpus-per-run", default=None, help="with --ray: CPUs Ray reserves per run, fractions allowed (default: --threads-per-run)")
    parser.add_argument("--gpus-per-run", default="0", help="with --ray: GPUs per run, fractions allowed, e.g. 0.25 puts four runs on a GPU (default 0)")
    parser.add_argument("--max-retries", default=str(DEFAULT_MAX_RETRIES),
                        help=f"times a run is restarted when its process or node dies, before it is recorded as failed (default {DEFAULT_MAX_RETRIES})")


def executor_from_args(args: argparse.Namespace) -> Executor:
    threads = _positive_int(args.threads_per_run, "--threads-per-run")
    # 'auto' fills the CPUs on this machine; with --ray the cluster decides, so it means 1 there
    jobs = (1 if args.ray else max(1, available_cpus() // threads)) if args.jobs == "auto" else _positive_int(args.jobs, "--jobs")
    retries = _count(args.max_retries, "--max-retries")
    if args.ray is None:
        for flag, value in (("--cpus-per-run", args.cpus_per_run), ("--gpus-per-run", None if args.gpus_per_run == "0" else args.gpus_per_run)):
            if value is not None:
                raise ExecutionOptionError(f"{flag} only applies with --ray; on this machine use --jobs and --threads-per-run")
        cpus = available_cpus()
        if jobs * threads > cpus:
            raise ExecutionOptionError(f"--jobs {jobs} x --threads-per-run {threads} = {jobs * threads} threads, more than the "
                                       f"{cpus} CPUs available; use at most --jobs {max(1, cpus // threads)}")
        if jobs == 1:
            return InProcessExecutor(threads_per_run=threads)
        return LocalPoolExecutor(jobs=jobs, threads_per_run=threads, max_retries=retries)
    if jobs != 1:
        raise ExecutionOptionError("--jobs and --ray exclude each other: with --ray the cluster decides how many runs fit at once")
    from benchmark.ray_executor import RayExecutor, RayUnavailableError  # ray is an optional dependency

    cpus = threads if args.cpus_per_run is None else _positive_float(args.cpus_per_run, "--cpus-per-run")
    gpus = _gpus(args.gpus_per_run)
    executor = RayExecutor(address=args.ray, cpus_per_run=cpus, gpus_per_run=gpus, threads_per_run=threads, max_retries=retries)
    try:
        executor.connect()
    except RayUnavailableError as error:
        raise ExecutionOptionError(str(error)) from None
    return executor


def run_device(requested: str, args: argparse.Namespace) -> str:
    """The spec's device. With --ray, the GPUs are on the workers, not necessarily here."""
    if args.ray is None:
        try:
            return resolve_device(requested)
        except DeviceError as error:
            raise ExecutionOptionError(str(error)) from None
    gpus = _gpus(args.gpus_per_run)
    if requested == "auto":
        return "cuda" if gpus > 0 else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested != "cuda":
        raise ExecutionOptionError(f"device {requested!r} with --ray: use auto, cpu or cuda (Ray picks each run's GPU)")
    if gpus == 0:
        raise ExecutionOptionError("--device cuda with --ray needs --gpus-per-run > 0 (e.g. 0.25 for four runs per GPU)")
    return "cuda"


def _gpus(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or (value > 1 and not value.is_integer()):
        raise ExecutionOptionError(f"--gpus-per-run {text!r}: use 0, a fraction in (0, 1] or a whole number of GPUs")
    return value


def _positive_int(text: str, flag: str) -> int:
    if not str(text).strip().isdigit() or int(text) < 1:
        raise ExecutionOptionError(f"{flag} {text!r} is not a positive integer")
    return int(text)


def _count(text: str, flag: str) -> int:
    if not str(text).strip().isdigit():
        raise ExecutionOptionError(f"{flag} {text!r} is not a whole number >= 0")
    return int(text)


def _positive_float(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ExecutionOptionError(f"{flag} {text!r} is not a positive number")
    return value
