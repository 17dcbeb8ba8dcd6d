"""Paired tests behind the README's reading of the robustness curves.

    python benchmark/scripts/curve_statistics.py [--out results] [--dataset imdb_mm] [--protocol standard]
                                                  [--holm-rows ROW,ROW,...] [--against mcar]

The leaderboard's robustness table ranks rows by mean area and drop, with no test. The README
says more (a row's rise at r = 0.9 over r = 0, one mechanism against another); this script
prints those numbers from the records, over each curve's complete seeds (the ones the table
uses), every difference paired by seed:

* per curve, row and swept rate r: Macro-F1 at r minus at r = 0, in points; its mean, how many
  seeds are higher and lower, the exact Wilcoxon p and Holm's adjustment over the rows of the
  curve at that rate (only the rows named by --holm-rows, when given);
* with --against MECHANISM: every other mechanism's curve minus that mechanism's curve of the
  same modality and setting, per row and shared rate, with Holm over the rows in the same way.

It reads test scores that the leaderboard already reports and selects nothing on them. It
writes nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmark.record_store import RecordStore  # noqa: E402
from benchmark.robustness import CurveKey, CurveRun, curve_runs, line_scores  # noqa: E402
from benchmark.significance import PairedComparison, compare_paired, holm  # noqa: E402


@dataclass(frozen=True)
class PairedDifference:
    """One row's scores minus a baseline's, paired by seed: a rate against r = 0, or a curve against another."""

    curve: CurveKey
    method: str
    rate: float
    baseline: str  # "r = 0", or the mechanism of the curve subtracted
    comparison: PairedComparison  # mean_difference as a fraction of 1, like the scores
    higher: int  # seeds where the difference is > 0
    lower: int
    holm_p: float = math.nan  # NaN for a row left out of the Holm family


def _difference(curve: CurveKey, method: str, rate: float, baseline: str,
                candidate: Mapping[int, float], reference: Mapping[int, float]) -> PairedDifference:
    comparison = compare_paired(candidate, reference)
    differences = [candidate[s] - reference[s] for s in comparison.seeds]
    return PairedDifference(curve, method, rate, baseline, comparison,
                            higher=sum(d > 0 for d in differences), lower=sum(d < 0 for d in differences))


def rises(runs: Sequence[CurveRun]) -> list[PairedDifference]:
    """Every row's score at each swept rate minus its score at r = 0, per curve."""
    out = []
    for (key, method), seeds in sorted(line_scores(runs).items()):
        rates = sorted(next(iter(seeds.values())))
        at_zero = {seed: scores[0.0] for seed, scores in seeds.items()}
        for rate in rates[1:]:
            out.append(_difference(key, method, rate, "r = 0", {seed: scores[rate] for seed, scores in seeds.items()}, at_zero))
    return out


def against_mechanism(runs: Sequence[CurveRun], mechanism: str) -> list[PairedDifference]:
    """Every other mechanism's curve minus ``mechanism``'s (same dataset, split, protocol, device,
    modality and setting), per row and rate that both curves have."""
    lines = line_scores(runs)
    out = []
    for (key, method), seeds in sorted(lines.items()):
        if key.mechanism == mechanism:
            continue
        reference = lines.get((replace(key, mechanism=mechanism), method))
        if reference is None:
            continue
        shared = set(next(iter(seeds.values()))) & set(next(iter(reference.values())))
        for rate in sorted(shared - {0.0}):
            out.append(_difference(key, method, rate, mechanism,
                                   {s: v[rate] for s, v in seeds.items()}, {s: v[rate] for s, v in reference.items()}))
    return out


def with_holm(differences: Sequence[PairedDifference], rows: frozenset[str] | None = None) -> list[PairedDifference]:
    """Holm over the rows of one curve, baseline and rate (over ``rows`` only, when given)."""
    families: dict[tuple[CurveKey, str, float], list[int]] = defaultdict(list)
    for i, d in enumerate(differences):
        if rows is None or d.method in rows:
            families[(d.curve, d.baseline, d.rate)].append(i)
    out = list(differences)
    for members in families.values():
        adjusted = holm([differences[i].comparison.wilcoxon_p for i in members])
        for i, p in zip(members, adjusted):
            out[i] = replace(differences[i], holm_p=p)
    return out


def report(differences: Sequence[PairedDifference]) -> str:
    lines = []
    heading = None
    for d in differences:
        key = d.curve
        title = (f"{key.dataset} {key.protocol}: {key.modality} missing, {key.mechanism}, {key.setting}, "
                 f"minus {d.baseline if d.baseline == 'r = 0' else d.baseline + ' curve'}")
        if title != heading:
            lines += ["", title, f"  {'row':<48} {'rate':>4} {'n':>3} {'mean':>7} {'higher':>6} {'lower':>5} {'p':>8} {'Holm':>8}"]
            heading = title
        c = d.comparison
        lines.append(f"  {d.method:<48} {d.rate:>4g} {c.n_pairs:>3} {100 * c.mean_difference:>+7.2f} {d.higher:>6} {d.lower:>5} "
                     f"{c.wilcoxon_p:>8.4f} {'' if math.isnan(d.holm_p) else f'{d.holm_p:.4f}':>8}")
    return "\n".join(lines).lstrip("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="results folder (its records/)")
    parser.add_argument("--dataset", default="imdb_mm", help="dataset label as in the leaderboard (default imdb_mm)")
    parser.add_argument("--protocol", default="standard", help="protocol label (default standard)")
    parser.add_argument("--holm-rows", default=None, help="comma-separated rows forming the Holm family (default: every row of a curve)")
    parser.add_argument("--against", default=None, metavar="MECHANISM", help="also compare every other mechanism's curves with this one's")
    args = parser.parse_args()
    store = RecordStore(Path(args.out))
    if not store.exists():
        raise SystemExit(f"no records in {args.out}")
    runs = [r for r in curve_runs(store.load()) if r.key.dataset == args.dataset and r.key.protocol == args.protocol]
    if not runs:
        raise SystemExit(f"no robustness curve for dataset {args.dataset!r} under protocol {args.protocol!r} in {args.out}")
    rows = frozenset(args.holm_rows.split(",")) if args.holm_rows else None
    known = {r.method for r in runs}
    if rows is not None and not rows <= known:
        raise SystemExit(f"--holm-rows: unknown row(s) {', '.join(sorted(rows - known))}; rows: {', '.join(sorted(known))}")
    differences = with_holm(rises(runs), rows)
    if args.against is not None:
        mechanisms = sorted({r.key.mechanism for r in runs})
        if args.against not in mechanisms:
            raise SystemExit(f"--against: no {args.against!r} curve; mechanisms: {', '.join(mechanisms)}")
        differences += with_holm(against_mechanism(runs, args.against), rows)
    print(report(differences))


if __name__ == "__main__":
    main()
