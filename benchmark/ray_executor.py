"""``--ray ADDRESS``: every run is one Ray task on an existing cluster (optional group ``ray``).

Each task reserves ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs; both may be fractions
(Ray packs four ``--gpus-per-run 0.25`` runs onto one GPU and sets ``CUDA_VISIBLE_DEVICES``
for each, so a spec's ``cuda`` device is the GPU Ray assigned). PyTorch runs on
``threads_per_run`` threads whatever the reservation, so records match the local executors.

The suite's code travels with the job (Ray's ``working_dir``: this checkout, without
``.git``, virtual environments, results and caches), so every node runs exactly the
driver's code; the record's code version is the driver's. Each node needs the same Python
packages (``requirements.lock``) and, for real data, the data root and cache folder at the
same absolute paths (a shared file system).

Records come back to the driver, which appends them to its one store as tasks finish. A task
whose worker process or node dies is retried by Ray up to ``max_retries`` times on any node,
then recorded as failed; a cancelled grid cancels its pending tasks.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generator, Sequence

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN, available_cpus, thread_env, torch_threads
from benchmark.environment import REPO_ROOT, code_version
from benchmark.executor import DEFAULT_MAX_RETRIES, failed_record, import_modules, run_spec
from benchmark.grid import DatasetCache
from benchmark.huge_pages import allocator_env
from benchmark.record import RunRecord
from benchmark.spec import RunSpec
from datasets.adapter import DataContext

LOCAL = "local"  # start a throw-away single-node Ray on this machine instead of joining a cluster
_REACH_TIMEOUT_S = 10
INSTALL_HINT = "pip install 'ray==2.60.0' (the optional dependency group 'ray' of pyproject.toml)"
# Left out of the code shipped to the workers: history, environments, outputs, caches.
_NOT_SHIPPED = [".git", ".venv", "venv", "results", ".cache", "__pycache__", ".pytest_cache", "*.egg-info", ".snapshots"]  # snapshots: nodes read them from --snapshot-dir


class RayUnavailableError(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


@dataclass(frozen=True)
class RayExecutor:
    address: str  # "auto", "HOST:PORT" of a running cluster's head, or "local"
    cpus_per_run: float = DEFAULT_THREADS_PER_RUN
    gpus_per_run: float = 0.0
    threads_per_run: int = DEFAULT_THREADS_PER_RUN
    max_retries: int = DEFAULT_MAX_RETRIES
    preload_modules: tuple[str, ...] = ()  # imported in every task (methods registered outside methods/)

    def __post_init__(self) -> None:
        if self.cpus_per_run <= 0 or self.gpus_per_run < 0 or self.threads_per_run < 1 or self.max_retries < 0:
            raise ValueError(f"cpus_per_run must be > 0, gpus_per_run >= 0, threads_per_run >= 1, max_retries >= 0; got {self}")
        if self.gpus_per_run > 1 and not float(self.gpus_per_run).is_integer():
            raise ValueError(f"gpus_per_run {self.gpus_per_run} above 1 must be a whole number of GPUs")

    def connect(self) -> None:
        """Join the cluster now (``run`` does it too): a bad address fails before any run starts."""
        ray = _ray()
        if self.address != LOCAL:
            _check_reachable(self.address)
        if ray.is_initialized():
            return
        runtime_env = {
            "working_dir": str(REPO_ROOT),
            "excludes": _NOT_SHIPPED,
            "env_vars": {**thread_env(self.threads_per_run), **allocator_env(), "MMHN_CODE_VERSION": code_version()},
        }
        options: dict[str, Any] = {"runtime_env": runtime_env, "log_to_driver": False, "configure_logging": False}
        if self.address == LOCAL:
            options.update(address="local", num_cpus=available_cpus(), include_dashboard=False)  # never an existing one
        else:
            options["address"] = self.address
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise RayUnavailableError(f"cannot join the Ray cluster at {self.address!r}: {error}") from None

    def run(self, specs: Sequence[RunSpec], context: DataContext) -> Generator[RunRecord, None, None]:
        ray = _ray()
        joined_here = not ray.is_initialized()
        self.connect()
        # Workers do not share the driver's working directory: give them absolute paths.
        context = replace(context, data_root=_absolute(context.data_root), cache_dir=Path(context.cache_dir).resolve())
        task = ray.remote(_run_task).options(
            num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run, max_retries=self.max_retries, retry_exceptions=False,
        )
        pending = {task.remote(spec, context, self.threads_per_run, self.preload_modules): spec for spec in specs}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    spec = pending.pop(ref)
                    try:
                        record = ray.get(ref)
                    except ray.exceptions.RayError as error:
                        record = failed_record(spec, f"its Ray task failed (retried up to {self.max_retries} times if its "
                                                     f"worker or node died): {_first_line(error)}")
                    yield record
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if joined_here:
                ray.shutdown()


def ray_installed() -> bool:
    try:
        _ray()
    except RayUnavailableError:
        return False
    return True


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


_DATASETS: dict[DataContext, DatasetCache] = {}  # per Ray worker process: a dataset loads once


def _run_task(spec: RunSpec, context: DataContext, threads: int, preload: tuple[str, ...]) -> RunRecord:
    import_modules(preload)
    datasets = _DATASETS.setdefault(context, DatasetCache(context))
    with torch_threads(threads):
        return run_spec(spec, datasets, context)


def _check_reachable(address: str) -> None:
    """Fail in seconds on a HOST:PORT where nothing listens (Ray itself keeps retrying for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return  # "auto" or a URL: Ray resolves and reports those itself
    try:
        socket.create_connection((host, int(port)), timeout=_REACH_TIMEOUT_S).close()
    except OSError as error:
        raise RayUnavailableError(f"nothing answers at {address} ({error}); is `ray start --head --port={port}` running there?") from None


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else Path(path).resolve()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip()

