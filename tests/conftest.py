"""Shared fixtures: small generated graphs and the real-data root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# The command line's default --jobs is 'auto' (a process pool filling the CPUs); tests of the
# command line run their small grids in-process unless they ask for a pool with --jobs.
os.environ["MMHN_JOBS"] = "1"

from datasets.mmhn import MMHN
from datasets.synthetic import SyntheticOptions, generate

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def small_mmhn() -> MMHN:
    """A 600-item synthetic graph: the same design as the default, five times smaller."""
    return generate(SyntheticOptions(scale=0.2))


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The raw real data. Under CI (MMHN_REQUIRE_REAL_DATA=1) its absence fails the test."""
    root = os.environ.get("MMHN_DATA_ROOT") or str(REPO_ROOT.parent / "shared" / "data")
    path = Path(root)
    if not path.is_dir():
        message = f"real data not found at {path} (set MMHN_DATA_ROOT)"
        if os.environ.get("MMHN_REQUIRE_REAL_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def one_torch_thread():
    """Opt-in (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``): small models run
    much faster on one thread than on threads contending for a shared host's cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
