"""Stop on SIGTERM as on Ctrl-C, so a grid killed by ``kill`` or by a scheduler ends cleanly.

``kill PID``, ``scancel`` and Slurm's time limit send SIGTERM (Slurm follows with SIGKILL
after its ``KillWait``, 30 s by default). Python's default for SIGTERM is to die on the spot:
the manifest would keep the invocation as ``running`` until some later invocation noticed,
and the local pool's workers would be orphaned mid-run. Turned into ``KeyboardInterrupt``,
the same code paths as Ctrl-C run: the pool stops its workers, the manifest records
``interrupted``, finished runs are already in the record store, and the same command
resumes.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as an interrupt (a ``KeyboardInterrupt``, so Ctrl-C handlers apply)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received {signal.Signals(signum).name}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread; the previous
    handler comes back afterwards. Does nothing off the main thread (signals cannot be set there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
