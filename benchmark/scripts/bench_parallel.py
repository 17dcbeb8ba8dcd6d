"""Wall time of one grid run one after another, on a local pool of two, and on Ray.

    python benchmark/scripts/bench_parallel.py [--seeds 10] [--scale 0.5] [--epochs 40] [--no-ray]

The grid is ``mlp`` and ``early_fusion_hgt`` on the synthetic graph, ``--seeds`` seeds each
(default 20 runs), every run on one CPU thread. Each executor runs the whole grid into a
fresh store, in this order:

* ``--jobs 1``: in this process, one run after another (1 thread per run, as always);
* with ``--two-threads``, ``--jobs 1`` on 2 threads per run: PyTorch's default on two cores;
* ``--jobs 2``, cold: the first pool of this process, so it pays for starting the fork
  server (one import of PyTorch and PyG); then warm: a second pool, whose workers fork from
  the running server;
* Ray: a throw-away single-node Ray on this machine (``--ray local``, loopback only), cold
  (Ray starts its worker processes, each importing PyTorch) and warm (workers reused).

It prints each wall time, the speed-up of two jobs over one, Ray's overhead per run over the
local pool, and checks that every executor produced the same scores spec by spec. Run it on
an idle machine: the load average before and after is printed because other processes
sharing the CPUs distort every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Ray, if used, stays on loopback and reports nothing (set before Ray is imported).
os.environ.update({"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"})

from benchmark.executor import Executor  # noqa: E402
from benchmark.grid import InProcessExecutor, plan_grid, run_grid  # noqa: E402
from benchmark.local_pool import LocalPoolExecutor  # noqa: E402
from benchmark.protocol import Protocol  # noqa: E402
from benchmark.record_store import RecordStore  # noqa: E402
from datasets.adapter import DataContext  # noqa: E402


def timed_grid(name: str, executor: Executor, specs: list, root: Path) -> tuple[float, dict]:
    store = RecordStore(root / f"{name}.jsonl")
    start = time.perf_counter()
    outcome = run_grid(specs, store, DataContext(None, root / "cache"), progress=False, executor=executor)
    seconds = time.perf_counter() - start
    failed = [r for r in outcome.records if not r.ok]
    if failed:
        raise SystemExit(f"{name}: {len(failed)} runs failed, e.g. {failed[0].error}")
    scores = {r.spec_id: (r.metrics, r.cost.best_epoch) for r in outcome.records}  # type: ignore[union-attr]
    print(f"  {name:<28} {seconds:8.1f} s   ({len(outcome.records)} runs)", flush=True)
    return seconds, scores


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per method (2 methods): runs = 2 x seeds (default 10)")
    parser.add_argument("--scale", type=float, default=0.5, help="synthetic graph scale (default 0.5: 1,500 items)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per run, no early stop (default 40)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray figures")
    parser.add_argument("--two-threads", action="store_true",
                        help="also time --jobs 1 on 2 threads per run (on a loaded machine OpenMP's waiting threads make this very slow)")
    args = parser.parse_args()

    protocol = Protocol("bench", seeds=args.seeds, max_epochs=args.epochs, patience=args.epochs, description="bench")
    specs = plan_grid(["mlp", "early_fusion_hgt"], ["synthetic"], protocol, args.seeds, "cpu", {"synthetic": {"scale": args.scale}})
    print(f"grid: {len(specs)} runs (mlp, early_fusion_hgt x {args.seeds} seeds), synthetic scale {args.scale}, "
          f"{args.epochs} epochs, 1 thread per run; {os.cpu_count()} CPUs; load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as folder:
        root = Path(folder)
        serial, reference = timed_grid("--jobs 1", InProcessExecutor(threads_per_run=1), specs, root)
        if args.two_threads:
            serial_2t, _ = timed_grid("--jobs 1, 2 threads/run", InProcessExecutor(threads_per_run=2), specs, root)
        pool_cold, pooled = timed_grid("--jobs 2 (cold)", LocalPoolExecutor(jobs=2), specs, root)
        pool_warm, _ = timed_grid("--jobs 2 (warm fork server)", LocalPoolExecutor(jobs=2), specs, root)
        same = [pooled == reference]
        if not args.no_ray:
            from benchmark.ray_executor import RayExecutor

            import ray

            executor = RayExecutor("local")
            start = time.perf_counter()
            executor.connect()
            ray_start = time.perf_counter() - start
            print(f"  {'Ray start (local, 2 CPUs)':<28} {ray_start:8.1f} s")
            ray_cold, on_ray = timed_grid("--ray local (cold)", executor, specs, root)
            ray_warm, _ = timed_grid("--ray local (warm)", executor, specs, root)
            ray.shutdown()
            same.append(on_ray == reference)
    runs = len(specs)
    print(f"\nload average after: {load_average()}")
    print(f"speed-up of --jobs 2 over --jobs 1: {serial / pool_cold:.2f}x cold, {serial / pool_warm:.2f}x warm (target >= 1.6x)")
    if args.two_threads:
        print(f"--jobs 1 on 2 threads per run vs 1 thread: {serial / serial_2t:.2f}x (its scores may differ in the last bits)")
    if not args.no_ray:
        print(f"Ray overhead per run over the local pool: {(ray_cold - pool_cold) / runs:+.2f} s cold, "
              f"{(ray_warm - pool_warm) / runs:+.2f} s warm (plus {ray_start:.1f} s to start Ray once)")
    print(f"same scores and selected epochs spec by spec as --jobs 1: {'yes' if all(same) else 'NO'}")


if __name__ == "__main__":
    main()
