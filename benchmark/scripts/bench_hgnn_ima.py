"""HGNN-IMA's cost as ratios to early-fusion HGT of the same depth, width and heads.

    python benchmark/scripts/bench_hgnn_ima.py [--datasets synthetic,imdb_mm] [--threads 1]

For every dataset and method, ``--repeats`` fresh subprocesses (methods interleaved, so load
drifts hit all of them alike) each build the model with ``--layers/--hidden/--heads`` and
run ``--warmup`` + ``--epochs`` full-batch training steps as the harness does (forward,
loss, backward, AdamW step). Per method the script prints the median over repeats of

* seconds per training step (median over the timed steps of one process), wall clock and
  CPU time of the process (on a shared machine the CPU time is the steadier of the two:
  waiting for a core is not counted);
* peak memory: on CUDA the peak allocated bytes; on CPU the sampled peak growth of the
  resident set (``benchmark.peak_memory``), which is why every measurement runs in a fresh
  process (an allocator that kept memory from an earlier model would hide it);
* activation memory: the bytes autograd keeps for backward in one step (distinct storages
  of saved tensors, parameters included) - exact and load-independent on any device;

and each as a ratio to ``early_fusion_hgt``. Targets (docs/hgnn_ima.md): at most 2.5x the
time and 3x the memory for two modalities. A dataset that is not registered or whose raw
data is not found is skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

BASELINE = "early_fusion_hgt"

# The synthetic generator at the size of imdb_mm (MAGNN's IMDB: 4,278 movies, 2,081 directors,
# 5,257 actors, one director and about three actors per movie; MiniLM text 384-d, EfficientNet
# image 1,280-d, 17.7 % of movies without a poster): cost depends on sizes, not on values.
IMDB_SHAPED = ("synthetic:num_items=4278 synthetic:num_creators=2081 synthetic:num_keywords=5257 synthetic:creators_per_item=1 "
               "synthetic:keywords_per_item=3 synthetic:text_dim=384 synthetic:image_dim=1280 synthetic:item_image_missing=0.177").split()


def measure(args: argparse.Namespace) -> dict:
    """One (dataset, method) measurement in this process; returns the figures."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from benchmark.peak_memory import PeakMemory
    from benchmark.run import training_loss
    from benchmark.seeding import seed_everything
    from datasets.adapter import DataContext
    from datasets.loading import get_adapter, load_dataset
    from methods.method import METHODS

    context = DataContext(data_root=Path(args.data_root) if args.data_root else None, cache_dir=Path(args.cache_dir))
    mmhn = load_dataset(args.dataset, context, dataset_options(args.dataset_option).get(args.dataset, {}))
    split = mmhn.split(get_adapter(args.dataset).default_split)
    method = METHODS.get(args.method)
    config = method.config({"layers": args.layers, "hidden": args.hidden, "heads": args.heads})
    seed_everything(0)
    steps: list[float] = []
    with PeakMemory(args.device) as memory:
        data = mmhn.to(args.device)
        model = method.build(data, config, context.cache_dir).to(args.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        train = split.train.to(args.device)
        saved_bytes = 0
        cpu_steps: list[float] = []
        for step in range(args.warmup + args.epochs):
            start, cpu_start = time.perf_counter(), time.process_time()
            optimizer.zero_grad(set_to_none=True)
            storages: dict[int, int] = {}
            if step == 0:
                def pack(tensor: torch.Tensor) -> torch.Tensor:
                    storage = tensor.untyped_storage()
                    storages[storage.data_ptr()] = storage.nbytes()
                    return tensor
                with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                    loss = training_loss(model(data), data.labels, train)
                saved_bytes = sum(storages.values())
            else:
                loss = training_loss(model(data), data.labels, train)
            loss.backward()
            optimizer.step()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize(args.device)
            if step >= args.warmup:
                steps.append(time.perf_counter() - start)
                cpu_steps.append(time.process_time() - cpu_start)
    return {
        "seconds_per_epoch": statistics.median(steps),
        "cpu_seconds_per_epoch": statistics.median(cpu_steps),
        "peak_mb": memory.megabytes,
        "saved_mb": saved_bytes / 2**20,
        "parameters": sum(p.numel() for p in model.parameters()),
        "edges": sum(int(e.shape[1]) for e in mmhn.edge_index_dict.values()),
        "nodes": sum(mmhn.num_nodes(t) for t in mmhn.node_types),
    }


def dataset_options(values: list[str]) -> dict[str, dict[str, object]]:
    """``DATASET:KEY=VALUE`` strings (values as JSON where they parse) by dataset."""
    options: dict[str, dict[str, object]] = {}
    for value in values:
        dataset, _, assignment = value.partition(":")
        key, _, raw = assignment.partition("=")
        try:
            options.setdefault(dataset, {})[key] = json.loads(raw)
        except json.JSONDecodeError:
            options.setdefault(dataset, {})[key] = raw
    return options


def available_datasets(names: list[str], data_root: str | None) -> tuple[list[str], dict[str, str]]:
    from datasets.adapter import DATASETS
    from datasets.loading import get_adapter

    chosen, skipped = [], {}
    for name in names:
        if name not in DATASETS.names():
            skipped[name] = f"not registered (registered: {', '.join(DATASETS.names())})"
            continue
        availability = get_adapter(name).availability(Path(data_root) if data_root else None)
        if availability.found:
            chosen.append(name)
        else:
            skipped[name] = availability.detail
    return chosen, skipped


def main() -> None:
    from benchmark.huge_pages import request_huge_pages

    request_huge_pages()  # the measurement processes inherit it: allocate as the harness does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="synthetic,imdb_mm")
    parser.add_argument("--methods", default="hgnn_ima", help="compared with early_fusion_hgt, e.g. hgnn_ima,hgnn_ima_late")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10, help="timed training steps per process")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per method (interleaved)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    parser.add_argument("--dataset-option", action="append", default=[], metavar="DATASET:KEY=VALUE",
                        help="a dataset option, e.g. synthetic:num_items=4278 (repeatable); see IMDB_SHAPED")
    parser.add_argument("--imdb-shaped", action="store_true", help="synthetic with imdb_mm's node, edge and feature sizes (IMDB_SHAPED)")
    parser.add_argument("--dataset", help=argparse.SUPPRESS)  # set in the worker subprocess
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.dataset:  # worker: one measurement, one JSON line
        print(json.dumps(measure(args)))
        return

    if args.imdb_shaped:
        args.dataset_option = IMDB_SHAPED + args.dataset_option
        print("synthetic is IMDB-shaped: " + " ".join(o.partition(":")[2] for o in IMDB_SHAPED))
    methods = [m.strip() for m in args.methods.split(",") if m.strip() and m.strip() != BASELINE] + [BASELINE]
    datasets, skipped = available_datasets([d.strip() for d in args.datasets.split(",") if d.strip()], args.data_root)
    for name, reason in skipped.items():
        print(f"skipping dataset {name}: {reason}")
    print(f"{args.layers} layers, hidden {args.hidden}, {args.heads} heads; {args.warmup} warm-up + {args.epochs} timed steps per process, "
          f"{args.repeats} processes per method; device {args.device}, torch threads {args.threads or 'default'}, {os.cpu_count()} CPU cores visible")
    for dataset in datasets:
        results: dict[str, list[dict]] = {m: [] for m in methods}
        for repeat in range(args.repeats):
            for method in methods:
                command = [sys.executable, __file__, "--dataset", dataset, "--method", method] + [
                    f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                    if k in ("layers", "hidden", "heads", "epochs", "warmup", "threads", "device", "cache_dir") or (k == "data_root" and v)
                ] + [f"--dataset-option={o}" for o in args.dataset_option]
                out = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
                if out.returncode != 0:
                    raise SystemExit(f"{method} on {dataset} failed:\n{out.stderr}")
                results[method].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"  {dataset} repeat {repeat + 1}/{args.repeats} {method}: {results[method][-1]['seconds_per_epoch']:.3f} s/step", flush=True)
        report(dataset, results)


def report(dataset: str, results: dict[str, list[dict]]) -> None:
    def med(method: str, key: str) -> float:
        return statistics.median(r[key] for r in results[method])

    first = results[BASELINE][0]
    print(f"\n{dataset}: {first['nodes']:,} nodes, {first['edges']:,} edges")
    keys = ("seconds_per_epoch", "cpu_seconds_per_epoch", "peak_mb", "saved_mb")
    print(f"{'method':<28} {'s/epoch':>8} {'x':>6} {'cpu s':>8} {'x':>6} {'peak MB':>9} {'x':>6} {'saved MB':>9} {'x':>6} {'params':>9}")
    for method in results:
        row = [med(method, k) for k in keys]
        base = [med(BASELINE, k) for k in keys]
        ratios = [a / b if b > 0 else float("nan") for a, b in zip(row, base)]
        cells = "".join(f" {value:>{9 if i >= 2 else 8}.{1 if i >= 2 else 3}f} {ratio:>6.2f}" for i, (value, ratio) in enumerate(zip(row, ratios)))
        print(f"{method:<28}{cells} {results[method][0]['parameters']:>9,}")
    spread = {m: [round(r["seconds_per_epoch"], 3) for r in results[m]] for m in results}
    print(f"per-process s/epoch (spread): {spread}")


if __name__ == "__main__":
    main()
