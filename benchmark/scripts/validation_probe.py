#!/usr/bin/env python
"""What one change of configuration does, on validation only: a probe before (or beside) a study.

    python benchmark/scripts/validation_probe.py --method hgnn_ima --dataset imdb_mm \\
        --set input_batchnorm=true --set dropout=0.5 [--seeds 10000,10001] [--protocol standard]

Runs the method's defaults and then each ``--set`` override alone (or ``--together``: all in
one configuration), per seed, through the harness's own loop, on the graph tuning sees
(``benchmark.tuning_objective.validation_only``: test labels erased, the test part replaced by
validation), so no number it prints can depend on a test label. Prints train and validation
Macro-F1 per run and the mean per configuration. Seeds default to the tuning seeds (10000..),
disjoint from the reported 0..n-1. Nothing is written to the records: a probe informs a
study's search space or a report's discussion, it is not a result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmark.cli import option_value  # noqa: E402
from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN  # noqa: E402
from benchmark.grid import DatasetCache  # noqa: E402
from benchmark.protocol import PROTOCOLS  # noqa: E402
from benchmark.run import execute_run  # noqa: E402
from benchmark.spec import RunSpec  # noqa: E402
from benchmark.tuning_objective import tuning_seeds, validation_only  # noqa: E402
from datasets.adapter import DataContext  # noqa: E402
from datasets.loading import get_adapter  # noqa: E402
from methods.method import METHODS  # noqa: E402


@dataclass(frozen=True)
class ProbeRun:
    config: str  # "defaults" or the overrides, as KEY=VALUE text
    seed: int
    train_macro_f1: float
    val_macro_f1: float


def parse_override(text: str) -> tuple[str, Any]:
    key, eq, raw = text.partition("=")
    if not eq or not key:
        raise SystemExit(f"--set {text!r} is malformed; expected KEY=VALUE, e.g. input_batchnorm=true")
    return key, option_value(raw)


def configurations(overrides: list[tuple[str, Any]], together: bool) -> list[tuple[str, dict[str, Any]]]:
    """(label, overrides) per configuration: the defaults first, then each override or all at once."""
    label = lambda items: ", ".join(f"{k}={json.dumps(v)}" for k, v in items)  # noqa: E731
    if together and overrides:
        return [("defaults", {}), (label(overrides), dict(overrides))]
    return [("defaults", {})] + [(label([item]), dict([item])) for item in overrides]


def probe(method: str, dataset: str, overrides: list[tuple[str, Any]], seeds: list[int], protocol: str,
          context: DataContext, dataset_options: dict[str, Any] | None = None, together: bool = False) -> list[ProbeRun]:
    """Train and validation Macro-F1 of each configuration and seed, from the validation-only graph."""
    adapter = get_adapter(dataset)
    options, split = adapter.normalized_options(dataset_options or {}), adapter.default_split
    mmhn, fingerprint = DatasetCache(context).get(dataset, options)
    graph = validation_only(mmhn, split)
    runs: list[ProbeRun] = []
    for label, chosen in configurations(overrides, together):
        hparams = METHODS.get(method).resolved_config(chosen)  # validates the overrides
        for seed in seeds:
            spec = RunSpec(method=method, dataset=dataset, split=split, seed=seed, hparams=hparams,
                           max_epochs=PROTOCOLS[protocol].max_epochs, patience=PROTOCOLS[protocol].patience,
                           dataset_options=options)
            record = execute_run(spec, graph, context.cache_dir, fingerprint)
            if not record.ok or record.metrics is None:
                print(f"{label:40s} seed {seed}: failed: {record.error}", flush=True)
                continue
            run = ProbeRun(label, seed, record.metrics.train_macro_f1, record.metrics.val_macro_f1)
            runs.append(run)
            print(f"{label:40s} seed {seed}: train {100 * run.train_macro_f1:6.2f}  val {100 * run.val_macro_f1:6.2f}", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", required=True, help=f"one of: {', '.join(METHODS.names())}")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an override of the method's config (repeatable)")
    parser.add_argument("--together", action="store_true", help="one configuration with every --set, instead of one each")
    parser.add_argument("--seeds", default=",".join(map(str, tuning_seeds(2))), help="comma-separated (default: the first two tuning seeds)")
    parser.add_argument("--protocol", default="standard", choices=sorted(PROTOCOLS))
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    args = parser.parse_args()
    if args.method not in METHODS.names():
        raise SystemExit(f"unknown method {args.method!r}; valid: {', '.join(METHODS.names())}")
    import torch

    torch.set_num_threads(DEFAULT_THREADS_PER_RUN)
    context = DataContext(Path(args.data_root) if args.data_root else None, Path(args.cache_dir), progress=False)
    runs = probe(args.method, args.dataset, [parse_override(t) for t in args.set], [int(s) for s in args.seeds.split(",")],
                 args.protocol, context, together=args.together)
    print(f"\nmean over seeds {args.seeds} ({args.method} on {args.dataset}, protocol {args.protocol}; test not read):")
    for label in dict.fromkeys(r.config for r in runs):
        mine = [r for r in runs if r.config == label]
        print(f"  {label:40s} train {100 * mean(r.train_macro_f1 for r in mine):6.2f}  "
              f"val {100 * mean(r.val_macro_f1 for r in mine):6.2f}  (n = {len(mine)})")


if __name__ == "__main__":
    main()
