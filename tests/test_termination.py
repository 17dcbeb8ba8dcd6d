"""SIGTERM (``kill``, ``scancel``, a scheduler's time limit) stops a grid as Ctrl-C does:
workers stopped, the invocation marked interrupted, no run recorded as failed for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from benchmark.record_store import RecordStore
from benchmark.termination import Terminated, sigterm_as_interrupt

REPO = Path(__file__).resolve().parents[1]


def test_sigterm_raises_an_interrupt_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as caught, sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode; never reached
    assert isinstance(caught.value, Terminated) and "SIGTERM" in str(caught.value)
    assert signal.getsignal(signal.SIGTERM) is before


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _ignores_sigterm(pid: int) -> bool:
    """Whether SIGTERM is in the process's ignored-signals mask (Linux /proc; bit n-1 is signal n)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(mask >> (signal.SIGTERM - 1) & 1)


def test_a_grid_terminated_like_a_scheduler_does_stops_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {**os.environ, "MMHN_DATA_ROOT": "", "PYTHONUNBUFFERED": "1"}
    # its own session: SIGTERM goes to every process of the group, as Slurm sends it
    grid = subprocess.Popen(
        [sys.executable, "run_all.py", "--methods", "early_fusion_hgt", "--datasets", "synthetic", "--seeds", "6",
         "--jobs", "2", "--no-progress", "--out", str(out)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        parent = psutil.Process(grid.pid)
        workers = lambda: [w for child in parent.children() for w in child.children()]  # forked by the forkserver
        _wait_for(lambda: len(workers()) >= 2, 120, "two workers")
        # a just-forked worker has not yet reached its first line, which ignores SIGTERM; a fixed
        # sleep was once too short on a loaded machine, so wait until the kernel says it ignores it
        _wait_for(lambda: all(_ignores_sigterm(w.pid) for w in workers()), 120, "workers ignoring SIGTERM")
        signalled = workers()
        for worker in signalled:
            worker.send_signal(signal.SIGTERM)  # a worker alone: it must ignore it
        time.sleep(1)
        # the same processes (the pool would replace a dead worker with a new one)
        assert all(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in signalled)
        family = parent.children(recursive=True)
        os.killpg(grid.pid, signal.SIGTERM)
        _, stderr = grid.communicate(timeout=60)
    finally:
        if grid.poll() is None:
            os.killpg(grid.pid, signal.SIGKILL)
    assert grid.returncode == 130, stderr
    assert "interrupted (received SIGTERM)" in stderr and "the same command resumes" in stderr
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == []
    (entry,) = json.loads((out / "manifest.json").read_text())["invocations"]
    assert entry["status"] == "interrupted"
    statuses = [r.status for r in RecordStore(out).load()]
    assert "failed" not in statuses  # the workers ignored the signal; the parent stopped them
