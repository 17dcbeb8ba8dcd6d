"""Which modality drives propagation on which relation: HGNN-IMA's mean λ, as heatmaps.

    python benchmark/scripts/plot_hgnn_ima_lambda.py [--out results] [--methods hgnn_ima]

Reads the run records in ``--out`` (its ``records/``), takes every successful run of the
chosen methods that recorded ``lambda_mean`` (mean inter-modal weight λ per layer, relation
and modality, from the selected epoch's weights on the whole graph) in the plain setting (no
modality dropped), and averages it over the seeds of each leaderboard row: records that
differ only in their seed. Seeds of different protocols or configurations are never mixed:
λ moves with training length (see the README). It prints the mean, each seed's selected
epoch and attention loss, and writes one PNG per row to ``--out/figures/``
(``lambda_<dataset>_<method>_<protocol>[_<config>].png``): one heatmap per layer, relations
as rows, modalities as columns. A relation's row sums to 1 (λ is a softmax over modalities
on every edge).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmark.record import RunRecord  # noqa: E402
from benchmark.record_store import RecordStore  # noqa: E402
from benchmark.rows import RowKey, latest_records, row_key, setting_of  # noqa: E402


def relation_label(edge_type: tuple[str, str, str]) -> str:
    src, rel, dst = edge_type
    return f"{src} -{rel}-> {dst}"


def lambda_groups(records: list[RunRecord], methods: set[str]) -> dict[RowKey, list[RunRecord]]:
    """The plain-setting records of ``methods`` with ``lambda_mean``, by leaderboard row, seeds in order."""
    groups: dict[RowKey, list[RunRecord]] = defaultdict(list)
    for record in latest_records(records):
        if record.ok and record.spec.method in methods and "lambda_mean" in record.diagnostics and not setting_of(record.spec):
            groups[row_key(record)].append(record)
    return {key: sorted(group, key=lambda r: r.spec.seed) for key, group in sorted(groups.items(), key=lambda item: repr(item[0]))}


def figure_name(key: RowKey) -> str:
    """``lambda_<dataset>_<method>_<protocol>``, plus the configuration hash unless defaults."""
    parts = [key.dataset, key.method, key.protocol] + ([] if key.config_source == "defaults" else [key.config_id])
    return "lambda_" + "_".join("".join(c if c.isalnum() or c in "-._" else "-" for c in part) for part in parts) + ".png"


def plot_lambda(lambda_mean: np.ndarray, relations: list[str], modalities: list[str], title: str, path: Path) -> Path:
    """Write heatmaps of ``lambda_mean`` ``[layers, relations, modalities]`` to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    layers = lambda_mean.shape[0]
    width = 1.2 + 1.1 * len(modalities)
    fig, axes = plt.subplots(1, layers, figsize=(3.2 + width * layers, 1.2 + 0.45 * len(relations)), squeeze=False)
    for k, ax in enumerate(axes[0]):
        # no shared y axis: sharing would let the later, unlabelled panels erase the relation names
        sns.heatmap(lambda_mean[k], ax=ax, vmin=0.0, vmax=1.0, cmap="viridis", annot=True, fmt=".2f", cbar=k == layers - 1,
                    xticklabels=modalities, yticklabels=relations if k == 0 else False)
        ax.set_title(f"layer {k + 1}")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def dataset_names(record: RunRecord, data_root: Path | None, cache_dir: Path) -> tuple[list[str], list[str]] | None:
    """Relation and modality names, in the order the model used (the dataset's own)."""
    from datasets.adapter import DataContext
    from datasets.loading import load_dataset

    try:
        mmhn = load_dataset(record.spec.dataset, DataContext(data_root, cache_dir), record.spec.dataset_options)
    except Exception as error:  # noqa: BLE001 - names are a nicety; the numbers still plot
        print(f"  (could not load {record.spec.dataset} for relation names: {error})")
        return None
    return [relation_label(e) for e in mmhn.edge_types], list(mmhn.modalities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="results folder (its records/); figures go to OUT/figures")
    parser.add_argument("--methods", default="hgnn_ima,hgnn_ima_no_alignment,hgnn_ima_no_attention_loss")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    args = parser.parse_args()
    store = RecordStore(Path(args.out))
    if not store.exists():
        raise SystemExit(f"no records in {store.root}")
    methods = {m.strip() for m in args.methods.split(",")}
    groups = lambda_groups(store.load(), methods)
    if not groups:
        raise SystemExit(f"no successful plain-setting runs of {', '.join(sorted(methods))} with lambda_mean in {store.root}")
    data_root = Path(args.data_root) if args.data_root else None
    for key, records in groups.items():
        mean = np.mean([np.asarray(r.diagnostics["lambda_mean"]) for r in records], axis=0)
        names = dataset_names(records[0], data_root, Path(args.cache_dir))
        relations, modalities = names if names else ([f"relation {i}" for i in range(mean.shape[1])], [f"modality {i}" for i in range(mean.shape[2])])
        label = f"{key.dataset} / {key.method} ({key.config_source}, protocol {key.protocol})"
        print(f"\n{label}: mean λ over {len(records)} seeds (rows: relations; columns: {', '.join(modalities)})")
        for k in range(mean.shape[0]):
            print(f"  layer {k + 1}")
            for relation, row in zip(relations, mean[k]):
                print(f"    {relation:<40} " + "  ".join(f"{v:.3f}" for v in row))
        print("  seed  selected epoch  attention loss")
        for r in records:
            loss = r.diagnostics.get("attention_loss", float("nan"))
            print(f"  {r.spec.seed:>4}  {r.cost.best_epoch if r.cost else '-':>14}  {loss:>14.3f}")
        title = f"HGNN-IMA mean λ: {label}, {len(records)} seeds"
        path = plot_lambda(mean, relations, modalities, title, Path(args.out) / "figures" / figure_name(key))
        print(f"  wrote {path}")


if __name__ == "__main__":
    main()
