"""What a record says about where it ran: device, package versions, code version, host."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
TRACKED_PACKAGES = ("torch", "torch-geometric", "numpy", "scikit-learn", "optuna", "pandas")


class DeviceError(ValueError):
    pass


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; reject devices that do not exist."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested == "cuda" or requested.startswith("cuda:"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index_text = requested.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise DeviceError(f"device {requested!r} is malformed; valid: auto, cpu, cuda, cuda:<index>")
        if int(index_text) >= count:
            valid = ", ".join(["auto", "cpu"] + [f"cuda:{i}" for i in range(count)])
            raise DeviceError(f"device {requested!r} does not exist on this machine ({count} CUDA devices); valid: {valid}")
        return requested
    raise DeviceError(f"unknown device {requested!r}; valid: auto, cpu, cuda, cuda:<index>")


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({cpu_model()}, {torch.get_num_threads()} threads)"


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name (Linux: ``/proc/cpuinfo``), else what ``platform`` knows.

    Two VMs of the same size can sit on different CPUs from one day to the next; without the
    model in the device name and the manifest, a cost column could mix machines unseen.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    return {**installed_versions(TRACKED_PACKAGES), "code": code_version()}


@functools.lru_cache(maxsize=4)
def installed_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Python's version and each installed package's version (packages not installed are left out)."""
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


# Tracked files that are outputs, not code: a grid rewrites results/manifest.json as it
# starts, which must not mark its own runs' code as modified.
NOT_CODE = ("results",)


@functools.lru_cache(maxsize=4)
def code_version(repo: Path = REPO_ROOT) -> str:
    """The git commit of the suite, with ``+dirty`` when tracked files other than the
    committed results (:data:`NOT_CODE`) have changes.

    ``MMHN_CODE_VERSION`` overrides it where the code is a copy without git history (the
    Ray executor ships the driver's checkout to the workers and sets it to the driver's).
    """
    if os.environ.get("MMHN_CODE_VERSION"):
        return os.environ["MMHN_CODE_VERSION"]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown"
        excluded = [f":(exclude){path}" for path in NOT_CODE]
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded], cwd=repo, capture_output=True, text=True, timeout=10)
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def host_name() -> str:
    return platform.node()
