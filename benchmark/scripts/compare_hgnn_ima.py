"""HGNN-IMA against its ablations and the fusion baselines, through the normal harness.

    python benchmark/scripts/compare_hgnn_ima.py --datasets imdb_mm --seeds 10

Runs (or resumes: finished specs are skipped) the grid of HGNN-IMA, its four ablations and
every registered fusion baseline (``early_fusion_hgt``, ``late_fusion_hgt`` when registered,
``mlp``) with their default configurations under the ``standard`` protocol (validation-
selected epoch, test read once), through ``run_all.py``'s code path and its record store
(``--out``, default ``results/``). Then it prints, per dataset, test Macro-F1 mean ± sample
std (ddof 1) and paired tests over the common seeds of HGNN-IMA against every other method
(Wilcoxon signed-rank, exact; paired t as a check), and the mean λ per relation and
modality, and writes the λ heatmaps to ``--out/figures``. Whatever the outcome, it is
printed; nothing is selected on test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ABLATIONS = ["hgnn_ima", "hgnn_ima_no_alignment", "hgnn_ima_no_attention_loss", "hgnn_ima_no_inter_modal", "hgnn_ima_late"]
BASELINES = ["early_fusion_hgt", "late_fusion_hgt", "mlp"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="imdb_mm")
    parser.add_argument("--seeds", default="10")
    parser.add_argument("--protocol", default="standard")
    parser.add_argument("--out", default="results")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="further run_all.py arguments, e.g. --extra --dataset-option synthetic:scale=0.5")
    args = parser.parse_args()

    import torch

    from benchmark import cli
    from methods.method import METHODS

    if args.threads:
        torch.set_num_threads(args.threads)
    methods = [m for m in ABLATIONS + BASELINES if m in METHODS.names()]
    missing = [m for m in ABLATIONS + BASELINES if m not in METHODS.names()]
    if missing:
        print(f"not registered, left out: {', '.join(missing)}")
    argv = ["--methods", ",".join(methods), "--datasets", args.datasets, "--seeds", args.seeds, "--protocol", args.protocol,
            "--out", args.out, "--device", args.device, *args.extra]
    status = cli.main(argv)
    if status != 0:
        return status
    summarise(Path(args.out), methods, [d.strip() for d in args.datasets.split(",")], int(args.seeds))
    lambda_figures(Path(args.out))
    return 0


def summarise(out: Path, methods: list[str], datasets: list[str], seeds: int) -> None:
    from scipy import stats

    from benchmark.record_store import RecordStore
    from benchmark.statistics import summarize

    latest = {r.spec_id: r for r in RecordStore(out).load()}
    scores: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for record in latest.values():
        s = record.spec
        if record.ok and record.metrics and s.method in methods and s.dataset in datasets and s.seed < seeds and s.config_source == "defaults":
            scores[(s.dataset, s.method)][s.seed] = record.metrics.test_macro_f1
    for dataset in datasets:
        print(f"\n{dataset}: test Macro-F1 (%), mean ± sample std over seeds; paired tests of hgnn_ima vs each method")
        reference = scores.get((dataset, "hgnn_ima"), {})
        lines, tests = {}, {}
        for method in methods:
            values = scores.get((dataset, method), {})
            if not values:
                continue
            summary = summarize(list(values.values()))
            std = f"{100 * summary.std:5.2f}" if summary.n > 1 else "  n/a"
            lines[method] = f"  {method:<28} {100 * summary.mean:6.2f} ± {std}  (n={summary.n})"
            common = sorted(set(values) & set(reference))
            if method != "hgnn_ima" and len(common) >= 2:
                a, b = [reference[s] for s in common], [values[s] for s in common]
                wilcoxon = stats.wilcoxon(a, b).pvalue if any(x != y for x, y in zip(a, b)) else 1.0
                tests[method] = (100 * (sum(a) - sum(b)) / len(common), wilcoxon, stats.ttest_rel(a, b).pvalue, len(common))
        holm = _holm({m: t[1] for m, t in tests.items()})
        for method, line in lines.items():
            if method in tests:
                diff, wilcoxon, t_p, n = tests[method]
                line += f"   hgnn_ima - this = {diff:+.2f}; Wilcoxon p = {wilcoxon:.3g} (Holm {holm[method]:.3g}), paired t p = {t_p:.3g}, n = {n}"
            print(line)


def _holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values (step-down, monotone)."""
    adjusted, running = {}, 0.0
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    for i, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - i) * p))
        adjusted[name] = running
    return adjusted


def lambda_figures(out: Path) -> None:
    script = REPO / "benchmark" / "scripts" / "plot_hgnn_ima_lambda.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=False)


if __name__ == "__main__":
    raise SystemExit(main())
