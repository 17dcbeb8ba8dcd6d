"""The leaderboard: records grouped into rows (dataset, method, setting), written as Markdown."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tabulate import tabulate

from benchmark.protocol import PROTOCOLS
from benchmark.record import RunRecord
from benchmark.statistics import Summary, summarize


@dataclass(frozen=True)
class RowKey:
    """Records that differ only in their seed share a row."""

    dataset: str  # with its non-default options, e.g. "synthetic (scale=4.0)"
    split: str
    method: str
    config_source: str
    protocol: str
    device: str


@dataclass(frozen=True)
class LeaderboardRow:
    key: RowKey
    test_macro_f1: Summary
    test_micro_f1: Summary
    val_macro_f1: Summary
    seconds_per_epoch: float
    num_parameters: int
    failed: int


def protocol_label(max_epochs: int, patience: int) -> str:
    for protocol in PROTOCOLS.values():
        if (protocol.max_epochs, protocol.patience) == (max_epochs, patience):
            return protocol.name
    return f"custom ({max_epochs} epochs, patience {patience})"


def dataset_label(dataset: str, options: dict) -> str:
    if not options:
        return dataset
    return f"{dataset} ({', '.join(f'{k}={v}' for k, v in sorted(options.items()))})"


def row_key(record: RunRecord) -> RowKey:
    s = record.spec
    return RowKey(dataset_label(s.dataset, s.dataset_options), s.split, s.method, s.config_source, protocol_label(s.max_epochs, s.patience), s.device.split(":")[0])


def leaderboard_rows(records: Iterable[RunRecord]) -> list[LeaderboardRow]:
    """One row per key, from the latest record of every spec id (complete-data runs only)."""
    latest = {r.spec_id: r for r in records if not r.spec.missing.active}  # missing-modality runs: robustness section
    groups: dict[RowKey, list[RunRecord]] = defaultdict(list)
    for record in latest.values():
        groups[row_key(record)].append(record)
    rows = []
    for key, group in groups.items():
        ok = [r for r in group if r.ok and r.metrics and r.cost]
        if not ok:
            continue
        rows.append(
            LeaderboardRow(
                key=key,
                test_macro_f1=summarize([r.metrics.test_macro_f1 for r in ok]),  # type: ignore[union-attr]
                test_micro_f1=summarize([r.metrics.test_micro_f1 for r in ok]),  # type: ignore[union-attr]
                val_macro_f1=summarize([r.metrics.val_macro_f1 for r in ok]),  # type: ignore[union-attr]
                seconds_per_epoch=sum(r.cost.seconds_per_epoch for r in ok) / len(ok),  # type: ignore[union-attr]
                num_parameters=ok[0].cost.num_parameters,  # type: ignore[union-attr]
                failed=len(group) - len(ok),
            )
        )
    rows.sort(key=lambda r: (r.key.dataset, r.key.protocol, -r.test_macro_f1.mean))
    return rows


def _pct(summary: Summary, with_std: bool = True) -> str:
    if not with_std:
        return f"{100 * summary.mean:.2f}"
    std = "n/a" if summary.n < 2 else f"{100 * summary.std:.2f}"
    return f"{100 * summary.mean:.2f} ± {std}"


HEADERS = ["method", "Macro-F1 (test)", "n", "Micro-F1 (test)", "Macro-F1 (val)", "s/epoch", "params", "config", "failed"]


def table_rows(rows: list[LeaderboardRow]) -> list[list[str]]:
    return [
        [
            r.key.method,
            _pct(r.test_macro_f1),
            str(r.test_macro_f1.n),
            _pct(r.test_micro_f1),
            _pct(r.val_macro_f1),
            f"{r.seconds_per_epoch:.4f}",
            f"{r.num_parameters:,}",
            r.key.config_source,
            str(r.failed),
        ]
        for r in rows
    ]


CONVENTIONS = """\
Conventions: scores are percentages on the target node type, mean ± sample standard deviation
(ddof = 1) over the n seeds 0..n-1 (no seed is dropped). For every run the epoch with the best
validation Macro-F1 is selected (early stopping on validation Macro-F1 with the protocol's
patience) and the test split is evaluated once, at that epoch only. Macro-F1 averages per-class
F1 over the classes present (scikit-learn's convention); Micro-F1 equals accuracy. s/epoch is the
mean wall time of one full-batch training step (forward, backward, update) on the row's device;
params counts trainable parameters. config says whether the method's published defaults or a
tuned configuration were used. failed counts runs that raised or diverged (recorded, not
averaged). Rows are sorted by mean test Macro-F1 for reading only; no row was selected on test.
"""


def render_leaderboard(records: Iterable[RunRecord]) -> str:
    from benchmark.robustness_report import robustness_section  # lazy: it imports this module's labels

    records = list(records)
    rows = leaderboard_rows(records)
    parts = ["# mmhn-bench leaderboard", ""]
    if not rows:
        parts += ["No successful runs recorded yet.", ""]
    sections: dict[tuple[str, str, str, str], list[LeaderboardRow]] = defaultdict(list)
    for row in rows:
        sections[(row.key.dataset, row.key.split, row.key.protocol, row.key.device)].append(row)
    for (dataset, split, protocol, device), section in sections.items():
        parts += [f"## {dataset} (split `{split}`, protocol `{protocol}`, device {device})", ""]
        parts += [tabulate(table_rows(section), headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
    parts += [CONVENTIONS]
    parts += robustness_section(records)
    return "\n".join(parts)


def write_leaderboard(records: Iterable[RunRecord], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render_leaderboard(records))
    tmp.replace(path)  # readers never see a half-written leaderboard
    return path
