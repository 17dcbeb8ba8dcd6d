"""How many CPU threads one run uses, fixed per run so a record does not depend on ``--jobs``.

PyTorch's CPU kernels split reductions (matrix products, scatter sums) into per-thread
chunks, so the summation order, and with it the last bits of every gradient, depends on the
thread count. Over a few hundred epochs those bits can move the selected epoch and the
scores: on the default synthetic graph, one forward and backward pass of
``early_fusion_hgt`` already gives bitwise different gradients with 1 and 2 threads. So a
run's thread count is a setting of its own (``--threads-per-run``, default 1), never derived
from how many runs share the machine; records write it down (``cost.device_name``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Mapping

import torch

DEFAULT_THREADS_PER_RUN = 1
# The thread pools a run can touch: OpenMP (PyTorch's intra-op pool), MKL and OpenBLAS (numpy).
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that size every thread pool of a fresh process to ``threads``."""
    return {name: str(threads) for name in THREAD_ENV_VARS}


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which a batch scheduler narrows)."""
    return len(os.sched_getaffinity(0))


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (child processes started inside inherit them)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run PyTorch's CPU kernels on ``threads`` threads for the duration."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
