"""Back large CPU tensors with transparent huge pages, so a step's big temporaries fault in 2 MB at a time.

A full-batch training step allocates and frees the same large tensors every epoch (edge
messages ``[E, H, D]``, metapath-instance gathers). glibc serves each one above its mmap
threshold with a fresh ``mmap``, so every epoch the kernel faults in and zeroes them again,
4 KB at a time: at synthetic scale 16 that made ``early_fusion_hgt``'s time per edge grow to
1.51x of scale 1 (bench_cost, 2026-12-02), the per-edge elementwise kernels running at a third
of the machine's memory bandwidth. PyTorch's CPU allocator can align blocks of 2 MB or more to
2 MB and ``madvise`` them to huge pages (``THP_MEM_ALLOC_ENABLE=1``, read in
``c10/core/alloc_cpu.cpp``); a fault then maps 2 MB instead of 4 KB.

Unlike :mod:`benchmark.heap_retention` this keeps glibc's ``mmap``/``munmap`` behaviour, so
freed tensors still go back to the kernel and peak memory stays that of the live tensors
(plus rounding of each large block to 2 MB). It changes where memory comes from, not any
number a run computes.

PyTorch reads the variable once, at the process's first CPU allocation of 2 MB or more, so
:func:`request_huge_pages` must run before any data is loaded; the command line calls it
first thing and child processes inherit the variable. A user's own ``THP_MEM_ALLOC_ENABLE``
(``0`` to opt out) wins. The kernel must allow it: ``/sys/kernel/mm/transparent_hugepage/enabled``
set to ``madvise`` or ``always``; with ``never`` (or off Linux) nothing changes.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_SWITCH = "THP_MEM_ALLOC_ENABLE"
KERNEL_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def request_huge_pages() -> bool:
    """Ask PyTorch's CPU allocator for huge pages unless the user chose already; returns whether
    they are requested. Only acts if called before the process's first large CPU allocation."""
    os.environ.setdefault(ENV_SWITCH, "1")
    return os.environ[ENV_SWITCH] == "1"


def allocator_env() -> dict[str, str]:
    """The driver's choice, for workers that do not inherit its environment (Ray's): empty
    when it made none."""
    return {ENV_SWITCH: os.environ[ENV_SWITCH]} if ENV_SWITCH in os.environ else {}


def huge_pages_requested() -> bool:
    """Whether PyTorch's allocator in processes started now is asked for huge pages."""
    return os.environ.get(ENV_SWITCH, "0") == "1"


def kernel_huge_page_mode(setting: Path = KERNEL_SETTING) -> str:
    """The kernel's transparent-huge-page mode (``always``, ``madvise``, ``never``), or
    ``unavailable`` where the kernel has none (not Linux, or built without it)."""
    try:
        text = setting.read_text()
    except OSError:
        return "unavailable"
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else "unavailable"


def resident_huge_page_kb() -> int:
    """Anonymous memory of this process held in huge pages (kB); 0 where Linux does not say."""
    try:
        lines = Path("/proc/self/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    return 0
