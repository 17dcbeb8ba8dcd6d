"""Figures of the leaderboard: accuracy against cost (with the Pareto front) and the CD diagram.

File names are a pure function of the sections (:func:`pareto_figure_names`), so the
leaderboard can link the figures without drawing them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from benchmark.comparison import SectionAnalysis
from benchmark.cross_dataset import CrossDatasetRanking, autorank_result
from benchmark.rows import SectionKey
from benchmark.statistics import confidence_interval

CD_DIAGRAM_FILE = "cd_diagram.png"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-").lower()


def pareto_figure_names(keys: list[SectionKey]) -> dict[SectionKey, str]:
    """``pareto_<dataset>.png``; split, protocol and device are added only where a dataset has several sections."""
    counts = Counter(_slug(k.dataset) for k in keys)
    names = {}
    for key in keys:
        slug = _slug(key.dataset)
        if counts[slug] > 1:
            slug = "_".join([slug, _slug(key.split), _slug(key.protocol), _slug(key.device)])
        names[key] = f"pareto_{slug}.png"
    return names


def remove_stale_pareto_figures(out: Path, current: Iterable[str]) -> list[Path]:
    """Delete the ``pareto_*.png`` in ``out`` that the report no longer makes (a dataset that
    gained a second section is renamed, so its old figure would linger beside the new ones
    and be listed by the README); returns what was deleted."""
    keep = set(current)
    stale = [path for path in sorted(out.glob("pareto_*.png")) if path.name not in keep]
    for path in stale:
        path.unlink()
    return stale


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(analysis: SectionAnalysis, path: Path) -> Path:
    """Mean test Macro-F1 (95 % CI bars) against mean seconds per epoch (log axis); the front as a step line.

    One colour and marker per row, named in a legend beside the axes (labels written next to
    the points collide when methods cost the same); rows on the front have a black ring.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    colours = plt.get_cmap("tab10").colors
    markers = "osD^vP*Xh<>"
    for i, row in enumerate(analysis.rows):
        mean = 100 * row.row.test_macro_f1.mean
        interval = confidence_interval(row.row.test_macro_f1)
        error = [[mean - 100 * interval.low], [100 * interval.high - mean]] if interval else None
        label = f"{row.label} ({row.row.key.config_source})" + (", front" if row.on_pareto_front else "")
        ax.errorbar(row.row.seconds_per_epoch, mean, yerr=error, fmt=markers[i % len(markers)], color=colours[i % len(colours)],
                    markeredgecolor="black" if row.on_pareto_front else colours[i % len(colours)], markeredgewidth=1.5,
                    capsize=3, markersize=7, label=label)
    front = sorted((r for r in analysis.rows if r.on_pareto_front), key=lambda r: r.row.seconds_per_epoch)
    ax.step([r.row.seconds_per_epoch for r in front], [100 * r.row.test_macro_f1.mean for r in front], where="post",
            color="black", linewidth=1, alpha=0.5, label="Pareto front (higher score, lower cost)")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per training epoch (mean over seeds, log scale)")
    ax.set_ylabel("test Macro-F1 (%), mean and 95 % CI")
    ax.set_title(analysis.key.title.replace("`", ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def plot_cd_diagram(ranking: CrossDatasetRanking, path: Path) -> Path:
    """autorank's critical-difference diagram (drawn even when Friedman's test is not significant)."""
    from autorank import plot_stats

    plt = _pyplot()
    result = autorank_result(ranking.entries, ranking.friedman.alpha if ranking.friedman else 0.05)
    ax = plot_stats(result, allow_insignificant=True, width=8)
    del plt
    return _save(ax.figure, path, tight=True)  # the caption (Friedman p, CD) is in the leaderboard


def _save(fig, path: Path, tight: bool = False) -> Path:  # noqa: ANN001
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None},  # no version stamp in the file
                bbox_inches="tight" if tight else None, pad_inches=0.2)
    tmp.replace(path)
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
