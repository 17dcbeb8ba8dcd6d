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
local pool, and checks that every executor produced the same scores spec by spec. From the
records it also prints how much longer the same runs took inside themselves when two ran at
once (they share memory bandwidth and caches): two divided by that factor is the most any
executor could gain with two jobs on this machine, which tells the pool's own overhead apart
from the hardware's limit. Run it on
an idle machine: the load average before and after is printed because other processes
sharing the CPUs distort every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class GridTiming:
    wall_seconds: float
    scores: dict  # spec id -> (metrics, selected epoch): executors must agree on these
    run_seconds: float  # sum over runs of the time each spent inside its run (record's total_seconds)


def timed_grid(name: str, executor: Executor, specs: list, root: Path) -> GridTiming:
    store = RecordStore(root / name)
    start = time.perf_counter()
    outcome = run_grid(specs, store, DataContext(None, root / "cache"), progress=False, executor=executor)
    seconds = time.perf_counter() - start
    failed = [r for r in outcome.records if not r.ok]
    if failed:
        raise SystemExit(f"{name}: {len(failed)} runs failed, e.g. {failed[0].error}")
    scores = {r.spec_id: (r.metrics, r.cost.best_epoch) for r in outcome.records}  # type: ignore[union-attr]
    run_seconds = sum(r.cost.total_seconds for r in outcome.records)  # type: ignore[union-attr]
    print(f"  {name:<28} {seconds:8.1f} s   ({len(outcome.records)} runs, {run_seconds:.1f} s inside them)", flush=True)
    return GridTiming(seconds, scores, run_seconds)


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
        serial = timed_grid("--jobs 1", InProcessExecutor(threads_per_run=1), specs, root)
        if args.two_threads:
            serial_2t = timed_grid("--jobs 1, 2 threads/run", InProcessExecutor(threads_per_run=2), specs, root)
        pool_cold = timed_grid("--jobs 2 (cold)", LocalPoolExecutor(jobs=2), specs, root)
        pool_warm = timed_grid("--jobs 2 (warm fork server)", LocalPoolExecutor(jobs=2), specs, root)
        same = [pool_cold.scores == serial.scores, pool_warm.scores == serial.scores]
        if not args.no_ray:
            from benchmark.ray_executor import RayExecutor

            import ray

            executor = RayExecutor("local")
            start = time.perf_counter()
            executor.connect()
            ray_start = time.perf_counter() - start
            print(f"  {'Ray start (local, 2 CPUs)':<28} {ray_start:8.1f} s")
            ray_cold = timed_grid("--ray local (cold)", executor, specs, root)
            ray_warm = timed_grid("--ray local (warm)", executor, specs, root)
            ray.shutdown()
            same += [ray_cold.scores == serial.scores, ray_warm.scores == serial.scores]
    runs = len(specs)
    print(f"\nload average after: {load_average()}")
    print(f"speed-up of --jobs 2 over --jobs 1: {serial.wall_seconds / pool_cold.wall_seconds:.2f}x cold, "
          f"{serial.wall_seconds / pool_warm.wall_seconds:.2f}x warm (target >= 1.6x)")
    # Where the rest goes: two runs at once may each run slower than one alone (they share
    # memory bandwidth and caches), which no executor can avoid; what is left is the pool's.
    for label, pool in (("cold", pool_cold), ("warm", pool_warm)):
        slowdown = pool.run_seconds / serial.run_seconds
        ceiling = 2 / slowdown
        print(f"  {label}: the same runs took {slowdown:.2f}x as long inside themselves with two at once, so two jobs "
              f"could give at most {ceiling:.2f}x; the pool reached {serial.wall_seconds / pool.wall_seconds / ceiling:.0%} of that")
    if args.two_threads:
        print(f"--jobs 1 on 2 threads per run vs 1 thread: {serial.wall_seconds / serial_2t.wall_seconds:.2f}x "
              f"(its scores may differ in the last bits)")
    if not args.no_ray:
        print(f"Ray overhead per run over the local pool: {(ray_cold.wall_seconds - pool_cold.wall_seconds) / runs:+.2f} s cold, "
              f"{(ray_warm.wall_seconds - pool_warm.wall_seconds) / runs:+.2f} s warm (plus {ray_start:.1f} s to start Ray once)")
    print(f"same scores and selected epochs spec by spec as --jobs 1: {'yes' if all(same) else 'NO'}")


if __name__ == "__main__":
    main()
