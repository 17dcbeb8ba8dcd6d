"""Robustness figures: test Macro-F1 against missing rate, one line per method (seaborn, PNG)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from benchmark.robustness import CurveKey, CurveRun, complete_runs, t_interval  # noqa: E402
from benchmark.robustness_report import SETTING_TEXT  # noqa: E402


def figure_name(key: CurveKey) -> str:
    """``robustness_<dataset>_<modality>_<setting>[_<mechanism>][_<protocol>].png`` (mcar, standard unsuffixed)."""
    parts = [_slug(key.dataset), key.modality, key.setting]
    if key.mechanism != "mcar":
        parts.append(key.mechanism)
    if key.protocol != "standard":
        parts.append(_slug(key.protocol))
    return "robustness_" + "_".join(parts) + ".png"


def plot_curves(runs: Sequence[CurveRun], out: Path) -> list[Path]:
    """One PNG per curve from its complete seeds; returns the paths written."""
    by_key: dict[CurveKey, list[CurveRun]] = defaultdict(list)
    for run in complete_runs(runs):
        by_key[run.key].append(run)
    names: dict[str, list[CurveKey]] = defaultdict(list)
    for key in by_key:
        names[figure_name(key)].append(key)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, keys in sorted(names.items()):
        for key in keys:
            # Two curves that differ only in split or device keep apart instead of overwriting.
            final = name if len(keys) == 1 else name.replace(".png", f"_{_slug(key.split)}_{_slug(key.device)}.png")
            written.append(_plot(key, by_key[key], out / final))
    return written


def _plot(key: CurveKey, runs: list[CurveRun], path: Path) -> Path:
    frame = pd.DataFrame({"rate": [r.rate for r in runs], "Macro-F1": [100 * r.macro_f1 for r in runs],
                          "method": [r.method for r in runs], "seed": [r.seed for r in runs]})
    seeds = frame.groupby("method")["seed"].nunique()
    seed_text = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}-{seeds.max()}"
    sns.set_theme(style="whitegrid", context="notebook")
    fig, ax = plt.subplots(figsize=(9.5, 5.0))  # room for the legend beside the axes
    sns.lineplot(data=frame, x="rate", y="Macro-F1", hue="method", style="method", markers=True, dashes=False,
                 errorbar=lambda values: t_interval(list(values)), err_kws={"alpha": 0.15}, ax=ax, hue_order=sorted(frame.method.unique()),
                 style_order=sorted(frame.method.unique()))
    rates = sorted(frame.rate.unique())
    ax.set_xticks(rates)
    ax.set_xticklabels([f"{r:g}" for r in rates])
    ax.set_xlabel(f"missing rate r (fraction of eligible nodes without `{key.modality}`)")
    ax.set_ylabel("test Macro-F1 (%)")
    ax.set_title(f"{key.dataset}: {key.modality} missing ({key.mechanism}), {SETTING_TEXT.get(key.setting, key.setting)}", fontsize=11)
    ax.set_ylim(*y_limits(frame.groupby(["method", "rate"])["Macro-F1"].mean().tolist()))
    ax.legend(title="method", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=True, fontsize=8, title_fontsize=9)
    fig.text(0.99, 0.01, f"mean over {seed_text} seeds; band: 95 % t-interval (cut at the axis); split {key.split}, "
             f"protocol {key.protocol}, {key.device}", ha="right", va="bottom", fontsize=7, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=150)
    plt.close(fig)
    tmp.replace(path)
    return path


def y_limits(means: Sequence[float], margin: float = 5.0) -> tuple[float, float]:
    """The y-range: the curves' means with a margin, never beyond Macro-F1's [0, 100].

    The means set the range, not the bands: with 2 seeds a 95 % t-interval is ±12.7 standard
    deviations and would flatten every curve into a line.
    """
    low, high = max(0.0, min(means) - margin), min(100.0, max(means) + margin)
    return low, high


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "-", text).strip("-")
