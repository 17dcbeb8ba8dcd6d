"""Heap retention: freed memory stays in the process during a run, goes back after it, and
changes no number a run computes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import torch

from benchmark.heap_retention import ENV_SWITCH, heap_retention_available, retained_heap
from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.mmhn import MMHN
from methods.method import METHODS
from tests.conftest import REPO_ROOT

MB = 2**20
BLOCK_MB = 256


@pytest.fixture
def retention_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SWITCH, "1")
    if not heap_retention_available():
        pytest.skip("heap retention needs glibc (Linux)")


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


def _touch_and_free_block() -> float:
    """Allocate and fill a block of BLOCK_MB, free it; the resident set just after the free."""
    block = torch.ones(BLOCK_MB * MB // 4)
    del block
    return _rss_mb()


@pytest.mark.usefixtures("retention_on")
def test_a_freed_block_stays_resident_inside_and_is_returned_on_exit() -> None:
    before = _rss_mb()
    assert _touch_and_free_block() < before + BLOCK_MB / 4  # default glibc: a large free goes back at once
    with retained_heap() as active:
        assert active
        kept = _touch_and_free_block()
        assert kept > before + BLOCK_MB * 3 / 4  # the pages stay for the next epoch's tensors
        # (reuse of the same pages is not asserted: a small allocation landing above the freed
        # block can make the next large request extend the heap; that is the memory cost)
    assert _rss_mb() < before + BLOCK_MB / 4  # malloc_trim on exit: a grid's next run starts small


@pytest.mark.usefixtures("retention_on")
def test_nested_use_restores_only_at_the_outermost_exit() -> None:
    before = _rss_mb()
    with retained_heap():
        with retained_heap():
            pass
        assert _touch_and_free_block() > before + BLOCK_MB * 3 / 4  # still retaining after the inner exit
    assert _rss_mb() < before + BLOCK_MB / 4


@pytest.mark.parametrize("setting", [None, "0", "yes"])
def test_off_unless_switched_on_with_1(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> None:
    """Opt-in: it costs memory (see heap_retention), so the default keeps glibc's behaviour."""
    if setting is None:
        monkeypatch.delenv(ENV_SWITCH, raising=False)
    else:
        monkeypatch.setenv(ENV_SWITCH, setting)
    assert not heap_retention_available()
    with retained_heap() as active:
        assert not active
    # In a fresh process: in this one, an earlier test's retained heap may have left a free
    # hole of BLOCK_MB below smaller live blocks, which glibc fills before it would mmap.
    env = {k: v for k, v in os.environ.items() if k != ENV_SWITCH} | ({} if setting is None else {ENV_SWITCH: setting})
    assert float(subprocess.run([sys.executable, "-c", FRESH_PROCESS_GROWTH], env=env, cwd=REPO_ROOT, check=True,
                                capture_output=True, text=True).stdout) < BLOCK_MB / 4


FRESH_PROCESS_GROWTH = f"""
import psutil, torch
from benchmark.heap_retention import retained_heap
before = psutil.Process().memory_info().rss
with retained_heap():
    block = torch.ones({BLOCK_MB} * 2**20 // 4)
    del block
    print((psutil.Process().memory_info().rss - before) / 2**20)
"""


@pytest.mark.parametrize("method", ["early_fusion_hgt", "hgnn_ima", "magnn"])
def test_a_run_is_the_same_bit_for_bit_with_and_without_retention(
    small_mmhn: MMHN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Reused heap pages hold old values where fresh pages hold zeros: a kernel that read
    memory it had not written would show up here as a different record."""
    spec = RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=0,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=8, patience=5)
    monkeypatch.setenv(ENV_SWITCH, "0")
    fresh_pages = execute_run(spec, small_mmhn, tmp_path)
    monkeypatch.setenv(ENV_SWITCH, "1")
    if not heap_retention_available():
        pytest.skip("heap retention needs glibc (Linux): both runs would use fresh pages")
    reused_pages = execute_run(spec, small_mmhn, tmp_path)
    assert fresh_pages.ok and reused_pages.ok
    assert reused_pages.metrics == fresh_pages.metrics
    assert reused_pages.diagnostics == fresh_pages.diagnostics
