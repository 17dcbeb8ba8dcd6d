"""The leaderboard (``results/leaderboard.md``) and its figures and manifest, from the records alone.

The text is a pure function of the records: no clock, no path, no host enters it, and every
ordering has a tie-breaker, so ``run_all.py --report`` rebuilds it byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tabulate import tabulate

from benchmark.ablation import DEFAULT_ABLATION_PREFIX, AblationRow, ablation_rows
from benchmark.comparison import ALPHA, SectionAnalysis, analyse_section
from benchmark.cross_dataset import MIN_DATASETS_FOR_CD, CrossDatasetRanking, headline_protocol, rank_across
from benchmark.figures import CD_DIAGRAM_FILE, pareto_figure_names, plot_cd_diagram, plot_pareto, remove_stale_pareto_figures
from benchmark.manifest import refresh_records_summary
from benchmark.number_versions import NumberVersions, StaleRecord, split_current, stale_groups
from benchmark.record import RunRecord
from benchmark.robustness_report import robustness_section, write_robustness_outputs
from benchmark.rows import (  # noqa: F401 - re-exported: the command line and older callers import them from here
    FailedRow,
    LeaderboardRow,
    RowKey,
    SectionKey,
    dataset_label,
    failed_rows,
    latest_records,
    leaderboard_rows,
    protocol_label,
    row_key,
    sections,
    setting_of,
)
from benchmark.significance import smallest_wilcoxon_p
from benchmark.formatting import bold, interval_text, p_text, pct, rank_text, seconds_text, seed_list

HEADLINE_START = "<!-- headline:start -->"
HEADLINE_END = "<!-- headline:end -->"


def _params(row: LeaderboardRow) -> str:
    counts = row.parameter_counts or (row.num_parameters,)
    return f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}–{counts[-1]:,}"


# ---------------------------------------------------------------------------- per dataset

HEADERS = [
    "method", "Macro-F1 (test)", "n", "95 % CI", "rank", "Δ to best", "p Wilcoxon (Holm)", "p t-test (Holm)",
    "Micro-F1 (test)", "Macro-F1 (val)", "config", "params", "s/epoch", "s to best", "peak MB", "Pareto", "device", "failed",
]


def section_table(analysis: SectionAnalysis) -> list[list[str]]:
    table = []
    for a in analysis.rows:
        r, c = a.row, a.comparison
        delta = "best" if c is None else ("–" if c.n_pairs == 0 else f"{100 * c.mean_difference:+.2f}")
        t_mark = " †" if a.tests_disagree else ""
        table.append([
            bold(a.label, a.in_tie_group), bold(pct(r.test_macro_f1), a.in_tie_group), str(r.test_macro_f1.n),
            interval_text(r.test_macro_f1), bold(rank_text(a.rank), a.in_tie_group), delta, p_text(a.wilcoxon_holm), p_text(a.t_test_holm) + t_mark,
            pct(r.test_micro_f1), pct(r.val_macro_f1), r.key.config_source, _params(r), seconds_text(r.seconds_per_epoch),
            seconds_text(r.seconds_to_best), f"{r.peak_memory_mb:,.0f}", "yes" if a.on_pareto_front else "",
            "; ".join(r.device_names), str(r.failed),
        ])
    return table


def table_rows(rows: list[LeaderboardRow]) -> list[list[str]]:
    """The table cells of ``rows`` (any sections), each row analysed within its own section."""
    cells = {}
    for key, section in sections(rows).items():
        analysis = analyse_section(key, section)
        for a, line in zip(analysis.rows, section_table(analysis)):
            cells[id(a.row)] = line
    return [cells[id(r)] for r in rows]


def section_notes(analysis: SectionAnalysis) -> list[str]:
    reference = analysis.reference
    notes = [
        f"Reference (highest mean test Macro-F1): {reference.label} ({reference.row.key.config_source}). "
        f"Tie group (bold, rank 1; not significantly worse at α = {analysis.alpha:g}): "
        + ", ".join(a.label for a in analysis.tie_group) + "."
    ]
    compared = [a for a in analysis.rows if a.comparison is not None and a.comparison.n_pairs > 0]
    if compared:
        fewest = min(a.comparison.n_pairs for a in compared)  # type: ignore[union-attr]
        if smallest_wilcoxon_p(fewest) >= analysis.alpha:
            notes.append(f"With {fewest} paired seeds the exact two-sided Wilcoxon test cannot go below p = "
                         f"{smallest_wilcoxon_p(fewest):.3g} (2/2^n): no row compared on so few seeds can be significantly "
                         "worse, so the tie group says nothing yet; the protocol's 10 seeds are needed.")
    for a in analysis.rows:
        c = a.comparison
        if c is not None and c.n_pairs == 0:
            notes.append(f"{a.label}: no seed in common with the reference; not compared, not in the tie group.")
        elif c is not None and (set(a.row.seeds) != set(c.seeds) or set(reference.row.seeds) != set(c.seeds)):
            notes.append(f"{a.label}: paired on the {c.n_pairs} seeds both rows have ({seed_list(c.seeds)}); "
                         f"{a.label} has seeds {seed_list(a.row.seeds)}, the reference {seed_list(reference.row.seeds)}.")
        elif a.row.seeds != tuple(range(a.row.test_macro_f1.n)):
            notes.append(f"{a.label}: seeds {seed_list(a.row.seeds)} (not 0..n-1).")
        if a.row.failed_seeds:
            notes.append(f"{a.label}: seed(s) {seed_list(a.row.failed_seeds)} failed (recorded with their error, not averaged).")
        if a.row.duplicate_seeds:
            notes.append(f"{a.label}: seed(s) {seed_list(a.row.duplicate_seeds)} ran more than once in this row "
                         "(on different device indices); the latest record is used.")
        if a.tests_disagree:
            notes.append(f"{a.label}: † the paired t-test (Holm) reaches the other decision than the Wilcoxon test; "
                         "the Wilcoxon test decides.")
        if len(a.row.parameter_counts) > 1:
            notes.append(f"{a.label}: the parameter count differs between seeds.")
    return notes


# ---------------------------------------------------------------------------- across datasets


def _section_labels(keys: list[SectionKey]) -> list[str]:
    """Column names: the dataset, with split and device only where a dataset has several sections."""
    counts: dict[str, int] = {}
    for key in keys:
        counts[key.dataset] = counts.get(key.dataset, 0) + 1
    return [k.dataset if counts[k.dataset] == 1 else f"{k.dataset} ({k.split}, {k.device})" for k in keys]


def headline(analyses: list[SectionAnalysis], ranking: CrossDatasetRanking) -> list[str]:
    chosen = [a for a in analyses if a.key.protocol == ranking.protocol]
    cells: dict[tuple[str, str], dict[SectionKey, str]] = {}
    for analysis in chosen:
        for a in analysis.rows:
            cells.setdefault((a.label, a.row.key.config_source), {})[analysis.key] = bold(pct(a.row.test_macro_f1), a.in_tie_group)
    average = {(e.method, e.config_source): e.average_rank for e in ranking.entries}
    order = sorted(cells, key=lambda entry: (entry not in average, average.get(entry, 0.0), entry))
    table = [
        [method, source, *(cells[(method, source)].get(a.key, "–") for a in chosen),
         rank_text(round(average[(method, source)], 2)) if (method, source) in average else "–"]
        for method, source in order
    ]
    seeds = sorted({a.row.test_macro_f1.n for analysis in chosen for a in analysis.rows})
    return [
        HEADLINE_START,
        f"Test Macro-F1 (%), mean ± sample std over seeds (n = {', '.join(map(str, seeds))}), protocol `{ranking.protocol}`. "
        "**Bold**: the dataset's tie group (not significantly worse than its best row; Holm-corrected exact Wilcoxon "
        f"signed-rank over paired seeds, α = {ALPHA:g}). Average rank: by mean test Macro-F1 over the datasets "
        "(1 = best; only methods present on every dataset).",
        "",
        tabulate(table, headers=["method", "config", *_section_labels([a.key for a in chosen]), "average rank"], tablefmt="github", disable_numparse=True),
        HEADLINE_END,
    ]


def across_datasets(ranking: CrossDatasetRanking) -> list[str]:
    lines = [f"## Across datasets (protocol `{ranking.protocol}`)", ""]
    if ranking.entries:
        names = _section_labels(list(ranking.sections))
        table = [[e.method, e.config_source, *(rank_text(r) for r in e.ranks), f"{e.average_rank:.2f}"] for e in ranking.entries]
        lines += [
            "Rank by mean test Macro-F1 within each dataset (1 = best; tied means share the mean of their ranks), "
            "among the methods present on every dataset; averaged over datasets.",
            "",
            tabulate(table, headers=["method", "config", *names, "average rank"], tablefmt="github", disable_numparse=True),
            "",
        ]
    for method, source, missing in ranking.incomplete:
        lines.append(f"- {method} ({source}) is not ranked across datasets: no row on {'; '.join(missing)}.")
    if ranking.incomplete:
        lines.append("")
    duplicated = len(ranking.sections) - ranking.distinct_datasets
    if duplicated > 0:
        lines += [f"Note: {duplicated} dataset(s) appear in more than one section (another split, option or device); "
                  "those sections are not independent samples of datasets.", ""]
    if ranking.friedman is not None:
        f = ranking.friedman
        lines += [
            f"Friedman test over {len(ranking.sections)} datasets and {len(ranking.entries)} methods: p = {f.p_value:.3g}. "
            f"Nemenyi critical difference at α = {f.alpha:g}: {f.critical_difference:.2f} ranks (methods whose average "
            "ranks differ by less are not significantly different; computed with autorank).",
            "",
            f"![critical-difference diagram]({CD_DIAGRAM_FILE})",
            "",
        ]
    else:
        lines += [ranking.no_diagram_reason, ""]
    return lines


# ---------------------------------------------------------------------------- ablations, robustness


ABLATION_HEADERS = ["variant", "Macro-F1 (test)", "n", "Δ to full", "n pairs", "p Wilcoxon (Holm)", "p t-test (Holm)", "params", "s/epoch"]


def ablations(rows: list[AblationRow], prefix: str) -> list[str]:
    lines = [f"## Ablations of `{prefix}`", ""]
    if not rows:
        return lines + [f"No ablation recorded: needs rows of `{prefix}` and of variants named `{prefix}_*` "
                        "in the same table with the same configuration source.", ""]
    groups: dict[tuple[SectionKey, str, str], list[AblationRow]] = {}
    for row in rows:
        groups.setdefault((row.section, row.full.key.config_source, row.full.key.config_id), []).append(row)
    for (section, source, _), group in groups.items():
        full = group[0].full
        table = [[f"{prefix} (full)", pct(full.test_macro_f1), str(full.test_macro_f1.n), "–", "–", "–", "–",
                  _params(full), seconds_text(full.seconds_per_epoch)]]
        for row in group:
            c = row.comparison
            significant = not math.isnan(row.wilcoxon_holm) and row.wilcoxon_holm < ALPHA
            delta = "–" if c.n_pairs == 0 else bold(f"{100 * c.mean_difference:+.2f}", significant)
            table.append([row.variant.key.method, pct(row.variant.test_macro_f1), str(row.variant.test_macro_f1.n), delta,
                          str(c.n_pairs), p_text(row.wilcoxon_holm), p_text(row.t_test_holm), _params(row.variant),
                          seconds_text(row.variant.seconds_per_epoch)])
        lines += [f"### {section.title}, {source}", ""]
        lines += [tabulate(table, headers=ABLATION_HEADERS, tablefmt="github", disable_numparse=True), ""]
    return lines + [
        "Δ to full: mean over shared seeds of (variant − full) test Macro-F1, in points; **bold** where the "
        f"exact Wilcoxon p, Holm-corrected across the variants of one table, is below {ALPHA:g}.", ""]


def robustness(records: list[RunRecord], other_settings: int) -> list[str]:
    lines = robustness_section(records)
    if lines:
        return lines
    note = f" ({_count(other_settings, 'record')} of other settings stored but not summarised here)" if other_settings else ""
    return ["## Robustness to missing modalities", "", f"No missing-modality sweep recorded{note}.", ""]


# ---------------------------------------------------------------------------- the page

CONVENTIONS = f"""\
## Conventions

- Scores are percentages on the target node type: Macro-F1 (primary; per-class F1 averaged over
  the classes present, scikit-learn's convention) and Micro-F1 (equals accuracy). Mean ± sample
  standard deviation (ddof = 1) over the n seeds; reported runs use seeds 0..n-1 and no seed is
  dropped (exceptions are noted under the table). 95 % CI: Student-t interval of the mean over
  seeds, mean ± t(0.975, n-1) · std / √n; it covers training randomness on one fixed split.
- Selection: every run keeps the epoch with the best validation Macro-F1 (early stopping with the
  protocol's patience) and reads the test split once, at that epoch. Macro-F1 (val) is the
  validation score of those same runs (the maximum over epochs, so optimistic).
- Paired comparison: each row is compared with the reference of its table over the seeds both
  have (same seed = same split and same data; a seed one of them lacks is left out and noted).
  The reference is the row with the highest mean test Macro-F1. Picking it changes no number (no
  model, epoch or hyperparameter is chosen on test); it only fixes the comparisons shown. The
  validation mean was not used because a run's validation score is a maximum over its epochs,
  optimistic by a different amount for each method. Picking the top row after seeing the test
  means makes differences to it somewhat easier to call significant than a comparison fixed in
  advance; the tests below are two-sided and corrected for the number of rows, which does not
  remove that effect.
- p Wilcoxon: two-sided exact Wilcoxon signed-rank test on the per-seed differences (zero
  differences dropped; tied |differences| get average ranks and the exact permutation
  distribution). p t-test: two-sided paired t-test, shown as a check (†: it reaches the other
  decision). Both are Holm-corrected across the rows of the table. Δ to best: mean of
  (row − reference) over the paired seeds, in points.
- Tie group (bold, rank 1): the reference and every row whose Holm-corrected Wilcoxon p ≥ {ALPHA:g}
  (not significantly worse). With n ≤ 5 paired seeds no p below 0.0625 exists, so nothing can be
  worse. Other rows: rank by mean test Macro-F1 among the table's rows, tied means sharing the
  mean of their ranks. Across datasets the same mean-based ranks are averaged; a
  critical-difference diagram (Friedman test + Nemenyi, autorank) is drawn from
  {MIN_DATASETS_FOR_CD} datasets on.
- Cost (means over the row's seeds, on the device shown): params = trainable parameters;
  s/epoch = wall time of one full-batch training step (forward, backward, update); s to best =
  training time until the end of the selected epoch; peak MB = peak allocated CUDA memory, or on
  CPU the sampled growth of the process's resident memory (comparable between rows measured the
  same way, not an exact byte count). Pareto = on the front of mean test Macro-F1 against s/epoch
  (no other row is at least as accurate and at least as fast). Timings from a shared machine are
  noisy; compare them within one table.
- config: `defaults` (the method's published defaults) or `tuned (N trials)` (an Optuna study on
  validation Macro-F1 with tuning seeds disjoint from the reported seeds; N = its trial budget).
  failed: seeds whose run raised or diverged (recorded with the error, not averaged).
"""


@dataclass(frozen=True)
class Report:
    """Everything the page shows, computed once (the figures are drawn from the same values)."""

    rows: list[LeaderboardRow]
    failed: list[FailedRow]
    analyses: list[SectionAnalysis]
    ranking: CrossDatasetRanking | None
    ablations: list[AblationRow]
    latest: list[RunRecord]  # the robustness section reads the sweep's records itself
    figure_names: dict[SectionKey, str]
    records: int
    other_settings: int
    failed_runs: int
    first_date: str
    last_date: str
    code_versions: dict[str, int]
    stale: list[StaleRecord]  # records of other code versions: listed, never in a table
    section_versions: dict[SectionKey, list[str]]  # "method vN" of every row of a table, plus the harness


def build_report(records: Iterable[RunRecord], ablation_prefix: str = DEFAULT_ABLATION_PREFIX) -> Report:
    split = split_current(records)
    latest = split.current
    rows = leaderboard_rows(latest)
    analyses = [analyse_section(key, section) for key, section in sections(rows).items()]
    protocol = headline_protocol([a.key for a in analyses])
    codes: dict[str, int] = {}
    for r in latest:
        codes[r.versions.get("code", "unknown")] = codes.get(r.versions.get("code", "unknown"), 0) + 1
    return Report(
        rows=rows,
        failed=failed_rows(latest),
        analyses=analyses,
        ranking=rank_across(analyses, protocol) if protocol else None,
        ablations=ablation_rows(rows, ablation_prefix),
        latest=latest,
        figure_names=pareto_figure_names([a.key for a in analyses]),
        records=len(latest),
        other_settings=sum(bool(setting_of(r.spec)) for r in latest),
        failed_runs=sum(not r.ok for r in latest),
        first_date=min((r.started_at[:10] for r in latest if r.started_at), default="?"),
        last_date=max((r.finished_at[:10] for r in latest if r.finished_at), default="?"),
        code_versions=dict(sorted(codes.items())),
        stale=split.stale,
        section_versions=_section_versions(latest),
    )


def _section_versions(records: list[RunRecord]) -> dict[SectionKey, list[str]]:
    found: dict[SectionKey, set[tuple[str, int, int]]] = {}
    for r in records:
        if not setting_of(r.spec):
            v = NumberVersions.parse(r.number_versions)  # current records always parse
            found.setdefault(row_key(r).section, set()).add((r.spec.method, v.method, v.harness))
    out = {}
    for key, entries in found.items():
        harness = sorted({h for _, _, h in entries})
        out[key] = [f"harness v{', v'.join(map(str, harness))}"] + [f"{m} v{mv}" for m, mv, _ in sorted(entries)]
    return out


def stale_section(stale: list[StaleRecord]) -> list[str]:
    """Records that do not describe this code: counted and explained, never averaged."""
    if not stale:
        return []
    lines = ["## Stale records", "",
             f"{_count(len(stale), 'record')} in `records/` were made by code whose numbers differ from this checkout's "
             "(or predate the versions); no table above uses them. The command of each line runs them again at the current "
             "versions; `python run_all.py --verify N` re-runs a sample and compares.", ""]
    table = [[dataset, method, str(len(group)), reason, _rerun_command(group)]
             for (dataset, method, reason, *_), group in stale_groups(stale, _rerun_key).items()]
    lines += [tabulate(table, headers=["dataset", "method", "records", "why stale", "re-run"], tablefmt="github", disable_numparse=True), ""]
    return lines


def _rerun_key(record: RunRecord) -> tuple[str, ...]:
    """What one command can re-run together: the protocol, defaults or tuned, the missing mechanism."""
    s = record.spec
    return (protocol_label(s.max_epochs, s.patience), "defaults" if s.config_source == "defaults" else "tuned", s.missing.mechanism)


def _rerun_command(group: list[StaleRecord]) -> str:
    specs = [s.record.spec for s in group]
    spec = specs[0]
    protocol, source, mechanism = _rerun_key(group[0].record)
    parts = [f"--methods {spec.method}", f"--datasets {spec.dataset}", f"--seeds {max(s.seed for s in specs) + 1}"]
    if not protocol.startswith("custom"):
        parts.append(f"--protocol {protocol}")
    if source == "tuned":
        parts.append("--use-tuned")
    if mechanism != "none":
        swept = [s.missing for s in specs if s.missing.active]
        rates = sorted({0.0} | {m.rate for m in swept})
        parts += ["--missing sweep", f"--missing-mechanism {mechanism}",
                  f"--missing-modalities {','.join(sorted({m.modality for m in swept}))}",
                  f"--missing-settings {','.join(sorted({m.setting for m in swept}))}",
                  f"--missing-rates {','.join(f'{r:g}' for r in rates)}"]
    return "`python run_all.py " + " ".join(parts) + "`"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _span(first: str, last: str) -> str:
    return f"run on {first}" if first == last else f"run between {first} and {last}"


def render_report(report: Report, ablation_prefix: str = DEFAULT_ABLATION_PREFIX) -> str:
    parts = ["# mmhn-bench leaderboard", ""]
    if not report.records:
        return "\n".join(parts + ["No runs of this code's versions recorded yet.", ""] + stale_section(report.stale) + [CONVENTIONS])
    stale = f"; {_count(len(report.stale), 'stale record')} of other code versions listed at the end" if report.stale else ""
    parts += [
        f"Generated from the run records in `records/` by `run_all.py` (`python run_all.py --report` rebuilds this page byte for byte): "
        f"{_count(report.records, 'run')} of this code's versions ({report.failed_runs} failed), {_span(report.first_date, report.last_date)} (UTC), "
        f"at {_count(len(report.code_versions), 'git commit')}{stale}. Every number below is computed from those records; none is edited by hand. "
        "`manifest.json` holds the commits, commands, hardware and package versions.",
        "",
    ]
    if not report.analyses:
        parts += ["No successful run in the plain setting yet.", ""]
    if report.ranking is not None:
        parts += ["## Headline", ""] + headline(report.analyses, report.ranking) + [""]
    if report.analyses:
        parts += ["## Per dataset", ""]
    for analysis in report.analyses:
        parts += [f"### {analysis.key.title}", ""]
        parts += [tabulate(section_table(analysis), headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
        parts += [f"- {note}" for note in section_notes(analysis)]
        parts += [f"- Code versions of these rows: {', '.join(report.section_versions[analysis.key])}.", ""]
        figure = report.figure_names[analysis.key]
        parts += [f"![test Macro-F1 against seconds per epoch, {analysis.key.dataset}]({figure})", ""]
    if report.failed:
        parts += ["### Rows without a single successful run", ""]
        parts += [f"- {f.key.method} ({f.key.config_source}) on {f.key.section.title}: seed(s) {seed_list(f.seeds)} failed; "
                  f"first error: `{f.error}`" for f in report.failed] + [""]
    if report.ranking is not None:
        parts += across_datasets(report.ranking)
    parts += ablations(report.ablations, ablation_prefix)
    parts += robustness(report.latest, report.other_settings)
    parts += stale_section(report.stale)
    parts += [CONVENTIONS]
    return "\n".join(parts)


def render_leaderboard(records: Iterable[RunRecord]) -> str:
    return render_report(build_report(records))


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)  # readers never see a half-written file
    return path


def write_leaderboard(records: Iterable[RunRecord], path: Path) -> Path:
    return _write_text(path, render_leaderboard(records))


def write_report(records: Iterable[RunRecord], out: Path, leaderboard_file: str = "leaderboard.md") -> Path:
    """The leaderboard, its figures, the robustness curves (CSV and PNG) and the records part of the manifest, in ``out``."""
    records = list(records)
    report = build_report(records)
    for analysis in report.analyses:
        plot_pareto(analysis, out / report.figure_names[analysis.key])
    remove_stale_pareto_figures(out, report.figure_names.values())
    if report.ranking is not None and report.ranking.friedman is not None:
        plot_cd_diagram(report.ranking, out / CD_DIAGRAM_FILE)
    write_robustness_outputs(report.latest, out)  # current records only, like the tables
    refresh_records_summary(out, records)
    return _write_text(out / leaderboard_file, render_report(report))


TERMINAL_HEADERS = ["dataset", "method", "Macro-F1 (test)", "n", "rank", "p Wilcoxon (Holm)", "config", "s/epoch", "failed"]


def terminal_rows(rows: list[LeaderboardRow]) -> list[list[str]]:
    """A compact end-of-run summary for the terminal; ``*`` marks the tie group (rank 1)."""
    out = []
    for key, section in sections(rows).items():
        for a in analyse_section(key, section).rows:
            out.append([key.dataset, a.label + (" *" if a.in_tie_group else ""), pct(a.row.test_macro_f1), str(a.row.test_macro_f1.n),
                        rank_text(a.rank), p_text(a.wilcoxon_holm), a.row.key.config_source, seconds_text(a.row.seconds_per_epoch), str(a.row.failed)])
    return out
