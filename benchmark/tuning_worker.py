"""One tuning worker process: ``python -m benchmark.tuning_worker --job JSON --device D``.

Started by ``run_all.py --tune ... --workers K`` (or ``--gpus``); it loads the dataset, joins
the job's study through the storage and evaluates trials until the study's budget is full.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import torch

from benchmark.grid import DatasetCache
from benchmark.tuning import TuningJob, run_worker
from benchmark.tuning_objective import TrialObjective
from benchmark.tuning_storage import open_storage
from datasets.adapter import DataContext


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmark.tuning_worker")
    parser.add_argument("--job", required=True, help="the TuningJob as JSON")
    parser.add_argument("--device", required=True)
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for this worker (its share of the cores)")
    args = parser.parse_args(argv)
    if args.threads and not args.device.startswith("cuda"):
        torch.set_num_threads(args.threads)
    job = TuningJob.from_json(json.loads(args.job))
    context = DataContext(data_root=Path(args.data_root) if args.data_root else None, cache_dir=Path(args.cache_dir))
    mmhn, fingerprint = DatasetCache(context).get(job.settings.dataset, job.settings.dataset_options)
    objective = TrialObjective(job.settings, args.device, mmhn, context.cache_dir, fingerprint)
    tally = run_worker(job, open_storage(job.storage, job.heartbeat_s), objective)
    print(f"worker done: {tally}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
