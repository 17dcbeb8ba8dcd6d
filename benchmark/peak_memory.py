"""Peak memory of one run: exact on CUDA, sampled resident-set growth on CPU."""

from __future__ import annotations

import threading

import psutil
import torch


class PeakMemory:
    """Context manager; ``megabytes`` is the peak during the ``with`` block.

    On CUDA this is ``torch.cuda.max_memory_allocated`` (reset on entry). On CPU PyTorch
    keeps no such counter, so a thread samples the process's resident set every 5 ms and
    reports the peak growth over the RSS at entry; allocations shorter than the sampling
    interval can be missed, and memory the allocator kept from an earlier run is not
    counted again. Good for ratios between methods measured the same way, not for bytes.
    """

    def __init__(self, device: str, interval: float = 0.005) -> None:
        self.device = device
        self.interval = interval
        self.megabytes = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._base = 0
        self._peak = 0

    def __enter__(self) -> PeakMemory:
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            process = psutil.Process()
            self._base = self._peak = process.memory_info().rss
            self._thread = threading.Thread(target=self._sample, args=(process,), daemon=True)
            self._thread.start()
        return self

    def _sample(self, process: psutil.Process) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        if self.device.startswith("cuda"):
            self.megabytes = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self._stop.set()
            assert self._thread is not None
            self._thread.join()
            self._peak = max(self._peak, psutil.Process().memory_info().rss)
            self.megabytes = (self._peak - self._base) / 2**20
