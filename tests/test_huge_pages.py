"""Transparent huge pages for PyTorch's large CPU blocks: requested by the command line,
the user's choice respected, and visible in the process's memory map where the kernel allows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.huge_pages import ENV_SWITCH, allocator_env, kernel_huge_page_mode, request_huge_pages

REPO = Path(__file__).resolve().parents[1]
# allocate 200 MB in a fresh process, then report how much of it the kernel holds in huge pages
PROBE = ("import torch; from benchmark.huge_pages import resident_huge_page_kb; "
         "x = torch.ones(50_000_000); print(resident_huge_page_kb())")


def _huge_kb_in_fresh_process(setting: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != ENV_SWITCH}
    if setting is not None:
        env[ENV_SWITCH] = setting
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_kernel_mode_is_the_bracketed_choice(tmp_path: Path) -> None:
    setting = tmp_path / "enabled"
    setting.write_text("always [madvise] never\n")
    assert kernel_huge_page_mode(setting) == "madvise"
    setting.write_text("[always] madvise never\n")
    assert kernel_huge_page_mode(setting) == "always"
    assert kernel_huge_page_mode(tmp_path / "absent") == "unavailable"


@pytest.fixture
def unset_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switch absent for the test and restored afterwards (setenv first so monkeypatch
    remembers the original state even when it was absent)."""
    monkeypatch.setenv(ENV_SWITCH, "placeholder")
    monkeypatch.delenv(ENV_SWITCH)


@pytest.mark.usefixtures("unset_switch")
def test_requested_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    assert request_huge_pages() is True
    assert os.environ[ENV_SWITCH] == "1"
    monkeypatch.setenv(ENV_SWITCH, "0")  # the documented opt-out
    assert request_huge_pages() is False
    assert os.environ[ENV_SWITCH] == "0"


@pytest.mark.usefixtures("unset_switch")
def test_workers_that_do_not_inherit_the_environment_get_the_drivers_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert allocator_env() == {}  # no choice made: PyTorch's own default on the worker
    monkeypatch.setenv(ENV_SWITCH, "0")
    assert allocator_env() == {ENV_SWITCH: "0"}
    request_huge_pages()  # the user's 0 stays
    assert allocator_env() == {ENV_SWITCH: "0"}


@pytest.mark.usefixtures("unset_switch")
def test_the_command_line_requests_them(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmark.cli import main

    assert main(["--list"]) == 0
    assert os.environ[ENV_SWITCH] == "1"


@pytest.mark.skipif(kernel_huge_page_mode() not in ("madvise", "always"), reason="the kernel gives no transparent huge pages here")
def test_large_tensors_land_in_huge_pages_only_when_requested() -> None:
    assert _huge_kb_in_fresh_process("1") >= 100 * 1024  # most of the 200 MB tensor
    if kernel_huge_page_mode() == "madvise":  # with 'always' the kernel uses them regardless
        assert _huge_kb_in_fresh_process("0") == 0
        assert _huge_kb_in_fresh_process(None) == 0  # PyTorch's own default is off: the command line turns it on


# One run of early_fusion_hgt on the default synthetic graph, whose edge tensors (36k edges x
# 64 floats, 9 MB) are well above the 2 MB from which PyTorch asks for huge pages.
RUN = """
import json, sys, tempfile, threading
from dataclasses import asdict
from pathlib import Path
from benchmark.huge_pages import resident_huge_page_kb
from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.synthetic import SyntheticOptions, generate
from methods.method import METHODS
spec = RunSpec(method="early_fusion_hgt", dataset="synthetic", split="random_20_10_70", seed=0,
               hparams=METHODS.get("early_fusion_hgt").resolved_config(), max_epochs=4, patience=4)
peak, done = [0], threading.Event()
def watch():  # the run frees its tensors before it returns: sample while it trains
    while not done.wait(0.01):
        peak[0] = max(peak[0], resident_huge_page_kb())
watcher = threading.Thread(target=watch)
watcher.start()
record = execute_run(spec, generate(SyntheticOptions()), Path(tempfile.mkdtemp()))
done.set()
watcher.join()
print(json.dumps({"metrics": asdict(record.metrics), "huge_kb": peak[0]}))
"""


@pytest.mark.skipif(kernel_huge_page_mode() not in ("madvise", "always"), reason="the kernel gives no transparent huge pages here")
def test_a_run_computes_the_same_numbers_with_and_without_huge_pages() -> None:
    """Huge pages change where memory comes from; a kernel that read memory it had not
    written (zeros in a fresh page) would show up here as a different record."""
    outputs = {}
    for setting in ("0", "1"):
        env = {**os.environ, ENV_SWITCH: setting}
        out = subprocess.run([sys.executable, "-c", RUN], cwd=REPO, env=env, capture_output=True, text=True, check=True)
        outputs[setting] = json.loads(out.stdout.strip().splitlines()[-1])
    if kernel_huge_page_mode() == "madvise":
        assert outputs["0"]["huge_kb"] == 0
    assert outputs["1"]["huge_kb"] > 0  # the run did use them
    assert outputs["1"]["metrics"] == outputs["0"]["metrics"]
