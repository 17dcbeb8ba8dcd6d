"""A real Ray cluster on this machine for tests: a head node on 127.0.0.1 with two worker processes.

Started with the ``ray start`` command line, as on a real cluster, in a temporary folder of
its own. Every process of the cluster has that folder on its command line or descends from
one that has; that is how ``stop`` finds exactly this cluster's processes (and no other Ray
on the machine) and ends them by process id.

One node, not a head plus worker nodes: Ray replaces a loopback ``--node-ip-address`` by the
machine's network address, and only a head started with multi-node support off keeps every
socket on 127.0.0.1. Its two CPUs give two Ray worker processes running tasks side by side.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

# Loopback only: no usage reports, no cluster token, no non-loopback node address.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
_START_TIMEOUT_S = 300  # generous: a loaded 2-core machine


class LocalRayCluster:
    def __init__(self, num_cpus: int = 2) -> None:
        # Short: Ray's socket paths live under it and a Unix socket path has ~107 characters.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="mmhn-ray-", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.num_cpus = num_cpus

    def start(self) -> None:
        command = [*_ray_command(), "start", "--head", f"--port={self.port}", f"--num-cpus={self.num_cpus}", "--num-gpus=0",
                   "--include-dashboard=false", f"--dashboard-agent-listen-port={free_port()}", f"--temp-dir={self.temp_dir}",
                   "--disable-usage-stats", f"--object-store-memory={100 * 1024 ** 2}"]
        subprocess.run(command, env={**os.environ, **RAY_ENV}, check=True, capture_output=True, timeout=_START_TIMEOUT_S)

    def busy_workers(self, function_name: str) -> list[psutil.Process]:
        """Ray worker processes executing ``function_name`` now (Ray titles them ``ray::NAME``)."""
        return [p for p in self.processes() if _name(p) == f"ray::{function_name}"]

    def processes(self) -> list[psutil.Process]:
        tag = str(self.temp_dir)
        roots = []
        for process in psutil.process_iter(["cmdline"]):
            if process.pid != os.getpid() and tag in " ".join(process.info["cmdline"] or []):
                roots.append(process)
        found = {p.pid: p for p in roots}
        for root in roots:
            try:
                found.update({c.pid: c for c in root.children(recursive=True)})
            except psutil.Error:
                continue
        return list(found.values())

    def stop(self) -> None:
        processes = self.processes()
        for process in processes:
            try:
                process.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(processes, timeout=30)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _ray_command() -> list[str]:
    script = Path(sys.executable).parent / "ray"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return ""
