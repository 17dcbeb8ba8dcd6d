"""Cost of every registered method, as ratios to ``early_fusion_hgt`` measured in the same run.

    nice -n 10 python benchmark/scripts/bench_cost.py [--methods all] [--scales 1,4,16]
        [--datasets synthetic,imdb_mm] [--epochs 3] [--repeats 1] [--threads 1]
        [--memory-limit-gb 8] [--variant 'magnn[max_instances=50]'] [--json costs.json]
        [--allocators plain,huge_pages,heap_kept]

For ``synthetic`` at each ``--scales`` factor (the dataset option ``scale``: every node
count, and so every edge count, grows by it) and for every other dataset in ``--datasets``
at its own size, each method runs in a fresh subprocess (so peak memory is its own, and a
method that runs out of memory is reported, not fatal): load the graph, seed, build the
model (timed: for MAGNN this includes the metapath instance enumeration, measured
separately with an empty cache), then ``--warmup`` + ``--epochs`` training steps as the
harness does them (forward, cross-entropy on the train split, backward, AdamW step).
Printed per (dataset, scale, method):

* seconds per epoch: the median of the timed steps (and, with ``--repeats``, the median
  over that many fresh processes, run interleaved across methods and scales);
* peak memory: the sampled peak growth of the resident set over build and training
  (:mod:`benchmark.peak_memory`; on CUDA the peak allocated bytes);
* both as ratios to ``early_fusion_hgt`` on the same graph, and the seconds per epoch per
  million graph edges relative to the same method at the smallest scale (1.0 = linear);
* MAGNN's enumeration: instances per metapath before and after the cap, and seconds.

Each measurement is made under each of ``--allocators``, interleaved: ``huge_pages`` (the
harness's default: ``THP_MEM_ALLOC_ENABLE=1``, :mod:`benchmark.huge_pages`), ``plain``
(glibc and PyTorch as installed: 4 KB pages, large blocks ``mmap``-ed and returned on free)
and ``heap_kept`` (``MMHN_RETAIN_HEAP=1``, :mod:`benchmark.heap_retention`); the column
``x plain alloc`` is the time against the same cell under ``plain``. The allocator changes
where memory comes from, never a computed number.

Targets checked at the end, per allocator: cost per edge at the largest scale within 1.5x
of the smallest for every method, and MAGNN at most 5x ``early_fusion_hgt`` per epoch on
every graph. A method
that exceeds ``--memory-limit-gb`` (an address-space limit on its subprocess, so the
machine is never pushed into swapping) is reported as such. Timings on a shared machine are
noisy; only ratios measured within one run are meaningful.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmark.heap_retention import ENV_SWITCH as RETAIN_HEAP  # noqa: E402 - after the path insert
from benchmark.huge_pages import ENV_SWITCH as HUGE_PAGES  # noqa: E402

BASELINE = "early_fusion_hgt"
PER_EDGE_TARGET = 1.5
MAGNN_TARGET = 5.0
# What each --allocators choice sets in a measurement's environment (and nothing else).
ALLOCATORS: dict[str, dict[str, str]] = {
    "huge_pages": {HUGE_PAGES: "1", RETAIN_HEAP: "0"},
    "plain": {HUGE_PAGES: "0", RETAIN_HEAP: "0"},
    "heap_kept": {HUGE_PAGES: "0", RETAIN_HEAP: "1"},
}


@dataclass
class Measurement:
    """One (dataset, scale, method) in one subprocess."""

    dataset: str
    scale: float
    method: str  # the registry name, or "name[key=value,...]" for a --variant
    allocator: str = "huge_pages"  # a key of ALLOCATORS
    status: str = "ok"  # ok | out of memory | failed
    error: str = ""
    edges: int = 0
    target_nodes: int = 0
    parameters: int = 0
    build_seconds: float = 0.0
    seconds_per_epoch: float = 0.0
    peak_mb: float = 0.0
    enumeration: list[dict[str, Any]] = field(default_factory=list)  # MAGNN: per metapath


def _load(dataset: str, scale: float, data_root: str | None, cache_dir: Path) -> Any:
    from datasets.adapter import DataContext
    from datasets.loading import load_dataset

    options = {"scale": scale} if dataset == "synthetic" else {}
    return load_dataset(dataset, DataContext(data_root=Path(data_root) if data_root else None, cache_dir=cache_dir), options)


def _magnn_enumeration(mmhn: Any, config: Any, cache_dir: Path) -> list[dict[str, Any]]:
    """Enumerate into the (empty) cache the build then reads, timing each metapath."""
    from methods.layers.metapath_instances import cached_instances

    rows = []
    for path in mmhn.metapaths:
        start = time.perf_counter()
        instances = cached_instances(mmhn, path, config.max_instances, config.sampling_seed, cache_dir)
        rows.append({
            "metapath": "-".join([path[0][0]] + [e[2] for e in path]),
            "instances": int(instances.total_per_target.sum()),
            "kept": instances.num_instances,
            "cap": config.max_instances,
            "seconds": time.perf_counter() - start,
        })
    return rows


def measure_one(args: argparse.Namespace) -> Measurement:
    """Runs inside the subprocess."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    from benchmark.heap_retention import retained_heap
    from benchmark.peak_memory import PeakMemory
    from benchmark.seeding import seed_everything
    from methods.method import METHODS

    result = Measurement(dataset=args.dataset, scale=args.scale, method=args.method)
    with tempfile.TemporaryDirectory(prefix="bench_cost_") as scratch:
        cache_dir = Path(scratch)  # empty: every enumeration is measured cold
        mmhn = _load(args.dataset, args.scale, args.data_root, Path(args.dataset_cache))
        result.edges = sum(int(mmhn.graph[e].edge_index.shape[1]) for e in mmhn.edge_types)
        result.target_nodes = mmhn.num_nodes(mmhn.target)
        name, overrides = parse_variant(args.method)
        method = METHODS.get(name)
        config = method.config(overrides)
        seed_everything(0)
        data = mmhn.to(args.device)
        train = data.split(next(iter(data.splits))).train
        with retained_heap(), PeakMemory(args.device) as memory:  # as benchmark.run does it
            start = time.perf_counter()
            if name == "magnn":
                result.enumeration = _magnn_enumeration(data, config, cache_dir)
            model = method.build(data, config, cache_dir).to(args.device)
            result.build_seconds = time.perf_counter() - start
            optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
            model.train()
            times = []
            for step in range(args.warmup + args.epochs):
                start = time.perf_counter()
                optimizer.zero_grad(set_to_none=True)
                output = model(data)
                loss = F.cross_entropy(output.logits[train], data.labels[train])
                if output.aux_loss is not None:
                    loss = loss + output.aux_loss
                loss.backward()
                optimizer.step()
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize(args.device)
                if step >= args.warmup:
                    times.append(time.perf_counter() - start)
        result.parameters = sum(p.numel() for p in model.parameters())
        result.seconds_per_epoch = statistics.median(times)
        result.peak_mb = memory.megabytes
    return result


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``"magnn[max_instances=50,encoder=mean]"`` -> ``("magnn", {...})``; a plain name has no overrides."""
    name, _, rest = text.partition("[")
    overrides: dict[str, Any] = {}
    for assignment in filter(None, rest.rstrip("]").split(",")):
        key, _, raw = assignment.partition("=")
        try:
            overrides[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.strip()] = raw
    return name, overrides


def _limit_memory(gigabytes: float) -> None:
    limit = int(gigabytes * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_subprocess(args: argparse.Namespace, dataset: str, scale: float, method: str, allocator: str = "huge_pages") -> Measurement:
    command = [
        sys.executable, __file__, "--one", "--method", method, "--dataset", dataset, "--scale", str(scale),
        "--epochs", str(args.epochs), "--warmup", str(args.warmup), "--threads", str(args.threads), "--device", args.device,
        "--dataset-cache", args.dataset_cache,
    ] + (["--data-root", args.data_root] if args.data_root else [])
    env = {**os.environ, **ALLOCATORS[allocator]}
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env,
                               preexec_fn=(lambda: _limit_memory(args.memory_limit_gb)) if args.memory_limit_gb else None)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode == 0 and lines:
        return Measurement(**{**json.loads(lines[-1]), "allocator": allocator})
    error = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    out_of_memory = "memory" in error.lower() or completed.returncode in (-9, 137)
    status = "out of memory" if out_of_memory else "failed"
    if out_of_memory:
        wanted = re.search(r"allocate (\d+) bytes", error)
        detail = f"one allocation of {int(wanted.group(1)) / 2**30:.1f} GB failed" if wanted else error[:200]
        error = f"over the {args.memory_limit_gb:g} GB limit ({detail})"
    return Measurement(dataset=dataset, scale=scale, method=method, allocator=allocator, status=status, error=error)


def combine(repeats: list[Measurement]) -> Measurement:
    """The median time and memory over the repeats of one (dataset, scale, method); a
    failure in any repeat is reported as the result."""
    failed = [m for m in repeats if m.status != "ok"]
    if failed:
        return failed[0]
    first = repeats[0]
    return Measurement(**{**asdict(first),
                          "seconds_per_epoch": statistics.median(m.seconds_per_epoch for m in repeats),
                          "peak_mb": statistics.median(m.peak_mb for m in repeats),
                          "build_seconds": statistics.median(m.build_seconds for m in repeats)})


# -- report --------------------------------------------------------------------------------
def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if a > 0 and b > 0 else "-"


def cost_rows(results: list[Measurement]) -> list[list[Any]]:
    by_key = {(r.dataset, r.scale, r.method, r.allocator): r for r in results}
    rows = []
    for r in results:
        base = by_key.get((r.dataset, r.scale, BASELINE, r.allocator))
        smallest = min(s for d, s, m, a in by_key if d == r.dataset and m == r.method and a == r.allocator)
        first = by_key.get((r.dataset, smallest, r.method, r.allocator))
        plain = by_key.get((r.dataset, r.scale, r.method, "plain"))
        if r.status != "ok":
            rows.append([r.dataset, f"{r.scale:g}", r.method, r.allocator, r.status] + ["-"] * 8)
            continue
        ok_plain = plain is not None and plain.status == "ok"
        per_edge = r.seconds_per_epoch / r.edges * 1e6
        ok_first = first is not None and first.status == "ok"
        ok_base = base is not None and base.status == "ok"
        rows.append([
            r.dataset, f"{r.scale:g}", r.method, r.allocator, f"{r.seconds_per_epoch:.3f}",
            _ratio(r.seconds_per_epoch, base.seconds_per_epoch) if ok_base else "-",
            _ratio(r.seconds_per_epoch, plain.seconds_per_epoch) if ok_plain else "-",
            f"{per_edge:.2f}", _ratio(per_edge, first.seconds_per_epoch / first.edges * 1e6) if ok_first else "-",
            f"{r.peak_mb:.0f}", _ratio(r.peak_mb, base.peak_mb) if ok_base else "-",
            _ratio(r.peak_mb / r.edges, first.peak_mb / first.edges) if ok_first else "-", f"{r.build_seconds:.2f}",
        ])
    return rows


COST_HEADERS = ["dataset", "scale", "method", "allocator", "s / epoch", "x EF-HGT", "x plain alloc", "s / epoch / M edges", "time per edge vs smallest scale",
                "peak MB", "mem x EF-HGT", "mem per edge vs smallest scale", "build s"]
ENUM_HEADERS = ["dataset", "scale", "method", "allocator", "metapath", "instances", "kept (cap)", "enumeration s"]


def enumeration_rows(results: list[Measurement]) -> list[list[Any]]:
    return [[r.dataset, f"{r.scale:g}", r.method, r.allocator, e["metapath"], f"{e['instances']:,}", f"{e['kept']:,} ({e['cap']})", f"{e['seconds']:.2f}"]
            for r in results for e in r.enumeration]


def check_targets(results: list[Measurement]) -> list[str]:
    """One line per target, graph and allocator: met, missed, or not measurable (and why)."""
    lines = []
    for allocator in sorted({r.allocator for r in results}, key=list(ALLOCATORS).index):
        lines.extend(_targets_under(allocator, [r for r in results if r.allocator == allocator]))
    return lines


def _targets_under(allocator: str, results: list[Measurement]) -> list[str]:
    by_key = {(r.dataset, r.scale, r.method): r for r in results}
    lines = []
    synthetic_scales = sorted({r.scale for r in results if r.dataset == "synthetic"})
    if len(synthetic_scales) > 1:
        low, high = synthetic_scales[0], synthetic_scales[-1]
        for method in sorted({r.method for r in results}):
            a, b = by_key.get(("synthetic", low, method)), by_key.get(("synthetic", high, method))
            if a is None or b is None or a.status != "ok" or b.status != "ok":
                why = next((f"{x.status} at scale {x.scale:g}" for x in (a, b) if x is not None and x.status != "ok"), "missing")
                lines.append(f"[not measured] {method} ({allocator}): cost per edge at {high:g}x vs {low:g}x ({why})")
                continue
            growth = (b.seconds_per_epoch / b.edges) / (a.seconds_per_epoch / a.edges)
            memory = (b.peak_mb / b.edges) / (a.peak_mb / a.edges) if a.peak_mb > 0 else float("nan")
            verdict = "met" if growth <= PER_EDGE_TARGET else "MISSED"
            lines.append(f"[{verdict}] {method} ({allocator}): cost per edge at {high:g}x is {growth:.2f}x that at {low:g}x "
                         f"(target <= {PER_EDGE_TARGET}); peak memory per edge {memory:.2f}x")
    for r in results:
        if parse_variant(r.method)[0] != "magnn":
            continue
        base = by_key.get((r.dataset, r.scale, BASELINE))
        if r.status != "ok" or base is None or base.status != "ok":
            lines.append(f"[not measured] {r.method} ({allocator}) vs {BASELINE} on {r.dataset} x{r.scale:g} "
                         f"({r.status if r.status != 'ok' else 'no baseline'})")
            continue
        ratio = r.seconds_per_epoch / base.seconds_per_epoch
        verdict = "met" if ratio <= MAGNN_TARGET else "MISSED"
        lines.append(f"[{verdict}] {r.method} ({allocator}) on {r.dataset} x{r.scale:g}: {ratio:.2f}x {BASELINE} per epoch "
                     f"(target <= {MAGNN_TARGET:g})")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="all", help="'all' (every registered method) or a comma-separated list")
    parser.add_argument("--variant", action="append", default=[], metavar="METHOD[KEY=VALUE,...]",
                        help="also measure a method with overridden hyperparameters, e.g. 'magnn[max_instances=50]' (repeatable)")
    parser.add_argument("--datasets", default="synthetic", help="comma-separated; synthetic runs at every --scales factor, others at their own size")
    parser.add_argument("--scales", default="1,4,16", help="synthetic size factors (default 1,4,16)")
    parser.add_argument("--epochs", type=int, default=3, help="timed training steps per measurement (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=1,
                        help="fresh processes per measurement, interleaved across methods and scales so load drift hits all alike; medians are reported")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per measurement (default 1: stable on a shared machine)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-limit-gb", type=float, default=8.0, help="address-space limit of each measurement; 0 = none")
    parser.add_argument("--data-root", default=None, help="raw real data (default: $MMHN_DATA_ROOT)")
    parser.add_argument("--dataset-cache", default=str(Path(tempfile.gettempdir()) / "mmhn-bench-cost"), help="processed real datasets")
    parser.add_argument("--json", default=None, help="also write every measurement to this JSON file")
    parser.add_argument("--allocators", default="huge_pages",
                        help=f"comma-separated; each measurement is made under each, interleaved: {', '.join(ALLOCATORS)} "
                             "(default: huge_pages, as the harness runs; see the module docstring)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(asdict(measure_one(args))))
        return 0
    from tabulate import tabulate
    from tqdm import tqdm

    from datasets.adapter import DATASETS
    from datasets.loading import get_adapter
    from methods.method import METHODS

    args.data_root = args.data_root or os.environ.get("MMHN_DATA_ROOT")
    methods = METHODS.names() if args.methods == "all" else [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        print(f"bench_cost.py: error: unknown method {unknown[0]!r}; valid: {', '.join(METHODS.names())}", file=sys.stderr)
        return 2
    if BASELINE not in methods:
        methods.insert(0, BASELINE)  # every ratio needs it
    for variant in args.variant:
        name, overrides = parse_variant(variant)
        try:
            METHODS.get(name).config(overrides)
        except (KeyError, ValueError) as error:
            print(f"bench_cost.py: error: --variant {variant!r}: {error}", file=sys.stderr)
            return 2
        methods.append(variant)
    allocators = [a.strip() for a in args.allocators.split(",") if a.strip()]
    unknown = [a for a in allocators if a not in ALLOCATORS]
    if unknown or not allocators:
        print(f"bench_cost.py: error: unknown allocator {unknown[0] if unknown else args.allocators!r}; "
              f"valid: {', '.join(ALLOCATORS)}", file=sys.stderr)
        return 2
    scales = [float(s) for s in args.scales.split(",")]
    plan: list[tuple[str, float]] = []
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if dataset not in DATASETS:
            print(f"skipped dataset {dataset!r}: not registered (registered: {', '.join(DATASETS.names())})")
            continue
        availability = get_adapter(dataset).availability(Path(args.data_root) if args.data_root else None)
        if not availability.found:
            print(f"skipped dataset {dataset!r}: {availability.detail}")
            continue
        plan.extend((dataset, s) for s in (scales if dataset == "synthetic" else [1.0]))
    measured: dict[tuple[str, float, str, str], list[Measurement]] = {}
    work = [(d, s, m, a) for _ in range(args.repeats) for d, s in plan for m in methods for a in allocators]
    bar = tqdm(work, desc="measurements", unit="run", dynamic_ncols=True)
    for dataset, scale, method, allocator in bar:
        if any(m.status != "ok" for m in measured.get((dataset, scale, method, allocator), [])):
            continue  # out of memory once is out of memory again
        bar.set_postfix_str(f"{method} on {dataset} x{scale:g} ({allocator})", refresh=True)
        measurement = run_subprocess(args, dataset, scale, method, allocator)
        measured.setdefault((dataset, scale, method, allocator), []).append(measurement)
        if measurement.status != "ok":
            bar.write(f"{method} on {dataset} x{scale:g} ({allocator}): {measurement.status}: {measurement.error}")
    results = [combine(repeats) for repeats in measured.values()]
    print(f"\nCost per training epoch (forward + backward + AdamW step): median of {args.epochs} timed epochs after {args.warmup} warm-up, "
          f"median over {args.repeats} interleaved process(es), {args.threads} thread(s), device {args.device}, "
          f"allocator(s) {', '.join(allocators)}; ratios to {BASELINE} on the same graph and allocator.\n")
    print(tabulate(cost_rows(results), headers=COST_HEADERS, tablefmt="github", disable_numparse=True))
    enumeration = enumeration_rows(results)
    if enumeration:
        print("\nMAGNN metapath instance enumeration (cold cache):\n")
        print(tabulate(enumeration, headers=ENUM_HEADERS, tablefmt="github", disable_numparse=True))
    print("\nTargets:")
    for line in check_targets(results):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(m) for repeats in measured.values() for m in repeats], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
