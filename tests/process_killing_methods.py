"""Test-only methods that kill the process running them, imported only inside worker processes.

Never imported by the test process itself (so ``--methods all`` and the registries seen by
other tests stay as they are): executors import it in their workers via ``preload_modules``.
Both are the MLP baseline, so a run that survives can be compared with an ``mlp`` run.
"""

from __future__ import annotations

import os
from pathlib import Path

from datasets.mmhn import MMHN
from methods.method import MethodConfig, MethodModel, register_method
from methods.mlp import MLP

DIED_MARKER = "died-once"


@register_method("kills_its_process")
class KillsItsProcess(MLP):
    summary = "test-only: the process running it exits while building the model"

    @classmethod
    def build(cls, mmhn: MMHN, config: MethodConfig, cache_dir: Path) -> MethodModel:
        os._exit(3)


@register_method("kills_its_process_once")
class KillsItsProcessOnce(MLP):
    summary = "test-only: exits on its first attempt (leaving a marker in the cache folder), then is the MLP"

    @classmethod
    def build(cls, mmhn: MMHN, config: MethodConfig, cache_dir: Path) -> MethodModel:
        marker = Path(cache_dir) / DIED_MARKER
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            os._exit(3)
        return super().build(mmhn, config, cache_dir)
