"""Dataset build and load times: the first build (feature extraction included) and a cached load.

    MMHN_DATA_ROOT=... MMHN_CACHE_DIR=... python benchmark/scripts/bench_datasets.py [--datasets imdb_mm,movielens_mm]

For each dataset, in one process: a first load (encodes every text and poster that the
cache does not hold yet and says how many), then ``--repeats`` further loads that find
every feature in the cache (graph built again from the raw tables, features read from the
cache, validated), with wall and CPU time. The target for a cached load is under 2 s. Point ``--cache-dir`` at an
empty folder to measure a cold build (minutes: every poster goes through EfficientNet).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from datasets.adapter import DataContext  # noqa: E402
from datasets.feature_cache import FeatureCache  # noqa: E402
from datasets.image_encoder import EFFNET_LITE0  # noqa: E402
from datasets.loading import load_dataset  # noqa: E402
from datasets.text_encoder import MINILM  # noqa: E402


def cached_entries(cache_dir: Path) -> dict[str, int]:
    return {encoder.name: FeatureCache(cache_dir, encoder).entry_count() for encoder in (MINILM, EFFNET_LITE0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="imdb_mm,movielens_mm")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.data_root:
        parser.error("--data-root or MMHN_DATA_ROOT is required")
    context = DataContext(data_root=Path(args.data_root), cache_dir=Path(args.cache_dir))
    print(f"data root {context.data_root}, cache {context.cache_dir}, {os.cpu_count()} CPU cores visible")
    rows = []
    for name in args.datasets.split(","):
        before = cached_entries(context.cache_dir)
        start = time.perf_counter()
        load_dataset(name, context)
        first = time.perf_counter() - start
        after = cached_entries(context.cache_dir)
        computed = ", ".join(f"{k} {after[k] - before[k]}" for k in after)
        cached, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            load_dataset(name, context)
            cached.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        rows.append((name, first, computed, cached, cpu))
    print(f"\n{'dataset':<14} {'first load s':>12}  {'features encoded now':<36} cached load: wall s, median of {args.repeats} (all) | CPU s, median")
    for name, first, computed, cached, cpu in rows:
        runs = ", ".join(f"{c:.2f}" for c in cached)
        print(f"{name:<14} {first:>12.1f}  {computed:<36} {statistics.median(cached):.2f} ({runs}) | {statistics.median(cpu):.2f}")
    print(f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores: "
          "wall times on a shared machine include waiting for a core; CPU time does not")


if __name__ == "__main__":
    main()
