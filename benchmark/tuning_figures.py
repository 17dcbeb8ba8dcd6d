"""Figures per study in ``<out>/tuning/``: optimisation history and parameter importances (PNG).

The history shows every trial the budget counted: completed trials at their objective,
pruned ones at the last running estimate they reported, failed ones on the axis, and the
best value so far. Importances are fANOVA's (Hutter et al., ICML 2014; Optuna's
implementation, fixed seed) over the completed trials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from benchmark.tuning import ERROR_ATTR, file_stem

MIN_TRIALS_FOR_IMPORTANCE = 3


def write_study_figures(study: optuna.Study, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Write the figures; returns (paths written, reasons for figures not written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / file_stem(study.study_name)
    written, skipped = [], []
    history = stem.with_name(stem.name + "__history.png")
    if _history(study, history):
        written.append(history)
    else:
        skipped.append("history: no finished trial")
    importances = stem.with_name(stem.name + "__importances.png")
    reason = _importances(study, importances)
    if reason is None:
        written.append(importances)
    else:
        skipped.append(f"importances: {reason}")
    return written, skipped


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed (imported here: the CLI starts faster)
    import matplotlib.pyplot as plt

    return plt


def _history(study: optuna.Study, path: Path) -> bool:
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.intermediate_values]
    failed = [t for t in trials if t.state == TrialState.FAIL and ERROR_ATTR in t.user_attrs]
    if not complete and not pruned:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter([t.number for t in complete], [t.value for t in complete], s=22, color="tab:blue", label="completed", zorder=3)
    if pruned:
        last = [t.intermediate_values[max(t.intermediate_values)] for t in pruned]
        ax.scatter([t.number for t in pruned], last, s=22, marker="x", color="tab:gray", label="pruned (last estimate)", zorder=2)
    if complete:
        xs, ys, best = [], [], float("-inf")
        for t in sorted(complete, key=lambda t: t.number):
            best = max(best, t.value)  # type: ignore[arg-type]
            xs.append(t.number)
            ys.append(best)
        ax.step(xs, ys, where="post", color="tab:red", label="best so far")
    if failed:
        low = ax.get_ylim()[0]
        ax.scatter([t.number for t in failed], [low] * len(failed), marker="v", color="black", label="failed", zorder=3)
    ax.set_xlabel("trial")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("validation Macro-F1 (mean over tuning seeds)")
    ax.set_title(f"{study.study_name}: optimisation history", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _importances(study: optuna.Study, path: Path) -> str | None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return f"{len(complete)} completed trials, {MIN_TRIALS_FOR_IMPORTANCE} needed"
    try:
        importances = optuna.importance.get_param_importances(study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError) as error:  # e.g. every completed trial has the same parameters
        return str(error).splitlines()[0]
    if not importances:
        return "no parameter varied"
    names = list(importances)[::-1]  # most important on top
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    ax.set_xlabel(f"fANOVA importance (share of variance, {len(complete)} completed trials)")
    ax.set_title(f"{study.study_name}: parameter importances", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
