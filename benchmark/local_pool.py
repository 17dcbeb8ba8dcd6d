"""``--jobs N``: runs on N worker processes of this machine, each on its own CPU threads.

Workers are forked from a fork server (``multiprocessing``'s ``forkserver``): one clean
process, started once with the thread variables of ``benchmark.cpu_threads.thread_env`` in
its environment, which imports PyTorch, PyG and this package but never runs a kernel, so
every fork is cheap (no second import of PyTorch) and safe (no OpenMP pool to inherit).
Each worker sets PyTorch's thread count to ``threads_per_run`` before each run.
``jobs x threads_per_run`` must not exceed the machine's CPUs (the command line checks), so
workers never oversubscribe them.

The parent hands one spec at a time to each idle worker over a pipe and gets the record back
on it, so it always knows which run a worker holds. A worker that dies (killed, out of
memory, a crash in native code) takes only its own run with it: that run goes back to the
queue, up to ``max_retries`` more times, then is recorded as failed, and a fresh worker takes
the dead one's place. Workers ignore Ctrl-C (the parent stops them), and exit on their own
when the parent is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import Counter, deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerProcess
from typing import Generator, Sequence

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN, environment, thread_env, torch_threads
from benchmark.executor import DEFAULT_MAX_RETRIES, failed_record, import_modules, run_spec
from benchmark.grid import DatasetCache, warm_feature_caches
from benchmark.record import RunRecord
from benchmark.spec import RunSpec
from datasets.adapter import DataContext

_STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class LocalPoolExecutor:
    jobs: int
    threads_per_run: int = DEFAULT_THREADS_PER_RUN
    max_retries: int = DEFAULT_MAX_RETRIES
    preload_modules: tuple[str, ...] = ()  # imported in every worker (methods registered outside methods/)

    def __post_init__(self) -> None:
        if self.jobs < 1 or self.threads_per_run < 1 or self.max_retries < 0:
            raise ValueError(f"jobs and threads_per_run must be >= 1 and max_retries >= 0, got {self}")

    def run(self, specs: Sequence[RunSpec], context: DataContext) -> Generator[RunRecord, None, None]:
        queue = deque(specs)
        deaths: Counter[str] = Counter()
        workers: list[_Worker] = []
        if min(self.jobs, len(queue)) > 1:
            warm_feature_caches(specs, context)
        try:
            workers = [self._start_worker(context) for _ in range(min(self.jobs, len(queue)))]
            while queue or any(w.spec is not None for w in workers):
                for worker in workers:
                    if worker.spec is None and queue:
                        worker.assign(queue.popleft())
                busy = [w for w in workers if w.spec is not None]
                ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy]))
                for index, worker in enumerate(workers):
                    if worker.spec is None or not ({worker.connection, worker.process.sentinel} & ready):
                        continue
                    spec = worker.spec
                    record = worker.receive()
                    if record is not None:
                        yield record
                        continue
                    deaths[spec.spec_id] += 1
                    if deaths[spec.spec_id] > self.max_retries:
                        yield failed_record(spec, f"its worker process died {deaths[spec.spec_id]} times "
                                                  f"(last: {worker.exit_reason()}); max retries {self.max_retries}")
                    else:
                        queue.appendleft(spec)
                    worker.stop()
                    workers[index] = self._start_worker(context)
        finally:
            for worker in workers:
                worker.stop()

    def _start_worker(self, context: DataContext) -> _Worker:
        forkserver = multiprocessing.get_context("forkserver")
        # Only takes effect when the server starts (once per parent process): not __main__,
        # which may be a script without a main guard, just what a worker needs.
        forkserver.set_forkserver_preload([__name__, "methods", "datasets"])
        parent_end, child_end = forkserver.Pipe()
        process = forkserver.Process(
            target=_worker_main, args=(child_end, self.threads_per_run, context, self.preload_modules),
            name="mmhn-run-worker", daemon=True,
        )
        # The fork server, started by the first start(), keeps this environment for good.
        with environment(thread_env(self.threads_per_run)):
            process.start()
        child_end.close()
        return _Worker(process, parent_end)


class _Worker:
    """The parent's handle on one worker process and the run it holds."""

    def __init__(self, process: ForkServerProcess, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.spec: RunSpec | None = None

    def assign(self, spec: RunSpec) -> None:
        self.spec = spec
        try:
            self.connection.send(spec)
        except OSError:
            pass  # already dead: receive() reports it

    def receive(self) -> RunRecord | None:
        """The record of the held run, or ``None`` when the worker died without one."""
        try:
            record = self.connection.recv()
        except (EOFError, OSError):
            self.process.join(_STOP_GRACE_SECONDS)
            return None
        self.spec = None
        return record

    def exit_reason(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.connection.close()
        self.process.join(_STOP_GRACE_SECONDS if self.spec is None else 0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _worker_main(connection: Connection, threads: int, context: DataContext, preload: tuple[str, ...]) -> None:
    # The parent decides when workers stop: Ctrl-C and a scheduler's SIGTERM reach the whole
    # process group, and a worker dying of them would be recorded as a failed run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    import_modules(preload)
    datasets = DatasetCache(context)
    while True:
        try:
            spec = connection.recv()
        except EOFError:
            return
        if spec is None:
            return
        with torch_threads(threads):
            record = run_spec(spec, datasets, context)
        connection.send(record)


def _exit_when_orphaned() -> None:
    """A parent killed with SIGKILL cannot stop its workers: they notice and stop themselves."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns when the parent is gone (its sentinel closes)
        os._exit(1)
