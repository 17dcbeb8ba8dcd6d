#!/usr/bin/env python
"""Re-run the recorded runs that the early-stopping rule of the current harness would train longer.

    python benchmark/scripts/rerun_early_stopped.py [--out results] [--dry-run]

Patience counts from the end of the one-cycle warm-up (``benchmark.run.warmup_epochs``); runs
recorded under the earlier rule that stopped sooner than ``warmup + patience`` epochs (and
before the epoch limit) are not what the harness now produces for their spec. This script runs
each such spec again and appends the new record; reports read the latest record of every spec
id, so the new one supersedes the old, which stays in the records as history. It was used
once, on 2026-11-29, for 11 runs (10 on imdb_mm, 1 on synthetic).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN  # noqa: E402
from benchmark.grid import DatasetCache  # noqa: E402
from benchmark.record import RunRecord  # noqa: E402
from benchmark.record_store import RecordStore  # noqa: E402
from benchmark.rows import latest_records  # noqa: E402
from benchmark.run import execute_run, warmup_epochs  # noqa: E402
from datasets.adapter import DataContext  # noqa: E402
from methods.method import METHODS  # noqa: E402


def stopped_too_early(record: RunRecord) -> bool:
    if not record.ok or record.cost is None:
        return False
    config = METHODS.get(record.spec.method).config(record.spec.hparams)
    earliest = min(warmup_epochs(config, record.spec.max_epochs) + record.spec.patience, record.spec.max_epochs)
    return record.cost.epochs_run < earliest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="results folder (its records/)")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    parser.add_argument("--dry-run", action="store_true", help="list the runs, run nothing")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(DEFAULT_THREADS_PER_RUN)  # the harness's default: results do not depend on the machine's cores
    store = RecordStore(Path(args.out))
    todo = [r for r in latest_records(store.load()) if stopped_too_early(r)]
    print(f"{len(todo)} run(s) stopped earlier than the current rule allows")
    context = DataContext(Path(args.data_root) if args.data_root else None, Path(args.cache_dir))
    datasets = DatasetCache(context)
    for old in todo:
        print(f"  {old.spec.method} on {old.spec.dataset} seed {old.spec.seed} ({old.spec_id}): stopped at epoch {old.cost.epochs_run}")  # type: ignore[union-attr]
        if args.dry_run:
            continue
        mmhn, fingerprint = datasets.get(old.spec.dataset, old.spec.dataset_options)
        new = execute_run(old.spec, mmhn, context.cache_dir, fingerprint)
        store.append(new)
        result = f"{100 * new.metrics.test_macro_f1:.2f} %" if new.metrics else new.error
        print(f"    test Macro-F1 {100 * old.metrics.test_macro_f1:.2f} % -> {result}")  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
