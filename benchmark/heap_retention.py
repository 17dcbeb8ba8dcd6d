"""Keep freed memory in the process during a run, so large tensors do not page-fault every epoch.

glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh
``mmap`` and returns it to the kernel on ``free``. A full-batch training step allocates and
frees the same large tensors every epoch (edge messages, metapath-instance gathers), so on
CPU each epoch pays the kernel for faulting in and zeroing all of them again. Measured with
``benchmark/scripts/bench_cost.py`` on the 2-core Intel VM (1 thread, 2026-12-02): MAGNN on
synthetic at scale 16 took 25.7 s per epoch, of which ``aten::index`` alone was 7.3 s, and
12.96 s with the heap kept; its time per edge went from 1.43x to 1.04x of scale 1, because
page-fault cost grows once the tensors no longer fit what the kernel keeps warm.

:func:`retained_heap` turns glibc's ``mmap`` use off and its trimming down for the
duration (``mallopt``), then hands the free heap back with ``malloc_trim`` on exit, so a
process that runs many runs returns to its size between them (and the sampled peak memory of
the next run still measures that run's own growth). It changes where memory comes from, not
any number a run computes (``tests/test_heap_retention.py`` checks a run's record is the same
bit for bit). Off where glibc is absent (macOS, musl), or with ``MMHN_RETAIN_HEAP=0``.
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
    """Whether :func:`retained_heap` changes anything here (glibc, and not switched off)."""
    return os.environ.get(ENV_SWITCH, "1") != "0" and _glibc() is not None


@contextmanager
def retained_heap() -> Iterator[bool]:
    """Serve allocations from a heap that keeps freed memory, for the duration; yields
    whether retention is in effect. Re-entrant: the outermost exit restores and trims."""
    global _depth
    libc = _glibc() if heap_retention_available() else None
    if libc is None:
        yield False
        return
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
