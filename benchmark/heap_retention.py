"""Keep freed memory in the process during a run, so large tensors do not page-fault every epoch.

glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh
``mmap`` and returns it to the kernel on ``free``. A full-batch training step allocates and
frees the same large tensors every epoch (edge messages, metapath-instance gathers), so on
CPU each epoch pays the kernel for faulting in and zeroing all of them again. On the
2-core Intel VM (1 thread, 2026-12-02) ``benchmark/scripts/bench_cost.py`` measured MAGNN on
synthetic at scale 16 at 25.15 s per epoch by default and 14.87 s with the heap kept
(``early_fusion_hgt`` 5.41 and 4.20 s); under the profiler ``aten::index`` took 7.3 s of a
25.7 s epoch by default and 2.4 s of 13.0 s with it, and in those profiling runs MAGNN's
time per edge at scale 16 went from 1.43x to 1.04x of scale 1. Why the faults cost more per byte on larger tensors was
not established (this is a VM, where a first touch may also reach the host).

With ``MMHN_RETAIN_HEAP=1``, :func:`retained_heap` turns glibc's ``mmap`` use off and its
trimming down for the duration (``mallopt``), then hands the free heap back with
``malloc_trim`` on exit, so a process that runs many runs returns to its size between them (and the sampled peak memory of
the next run still measures that run's own growth). It changes where memory comes from, not
any number a run computes (``tests/test_heap_retention.py`` checks a run's record is the same
bit for bit).

Opt-in (``MMHN_RETAIN_HEAP=1``), because it costs memory: a heap without ``mmap`` cannot
always fit a large request into the holes that freed tensors leave, so it grows past the
live peak. MAGNN at scale 16 peaked at 12,863 MB of resident-set growth with it against
6,908 MB without; ``early_fusion_hgt`` 2,998 against 2,158 MB. A run that fits in memory by
default may not fit with it, and the peak-memory column of records made with it is not
comparable with those made without. Does nothing where glibc is absent (macOS, musl).
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

# glibc's mallopt parameters (malloc.h) and its defaults for them
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
LARGEST_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: free memory above 2 GiB at the heap's top is still trimmed
ENV_SWITCH = "MMHN_RETAIN_HEAP"

_lock = threading.Lock()
_depth = 0  # runs in this process inside retained_heap (nested or in threads)


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def heap_retention_available() -> bool:
    """Whether :func:`retained_heap` changes anything here: glibc, and ``MMHN_RETAIN_HEAP=1``."""
    return os.environ.get(ENV_SWITCH, "0") == "1" and _glibc() is not None


@contextmanager
def retained_heap() -> Iterator[bool]:
    """With ``MMHN_RETAIN_HEAP=1``, serve allocations from a heap that keeps freed memory
    for the duration; yields whether retention is in effect. Re-entrant: the outermost
    exit restores and trims."""
    global _depth
    if not heap_retention_available():
        yield False
        return
    libc = _glibc()
    assert libc is not None  # heap_retention_available checked it
    with _lock:
        if _depth == 0:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, LARGEST_TRIM_THRESHOLD)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(ctypes.c_size_t(0))
