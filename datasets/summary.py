"""Summary tables of an MMHN: nodes and modality coverage per type, relations, class balance.

Used by ``benchmark/scripts/dataset_summary.py`` to write the README's dataset tables, so
those numbers are computed from the loaded graphs, never typed by hand.
"""

from __future__ import annotations

from tabulate import tabulate

from datasets.mmhn import MMHN


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.1f} %)" if whole else "0"


def _coverage(mmhn: MMHN, node_type: str, modality: str) -> str:
    if not mmhn.has_modality(node_type, modality):
        return "absent (structural)"
    present = int(mmhn.present(node_type, modality).sum())
    return f"{mmhn.feature_dim(node_type, modality)}-d, {_share(present, mmhn.num_nodes(node_type))}"


def node_table(mmhn: MMHN) -> str:
    rows = [[t + (" (target)" if t == mmhn.target else ""), f"{mmhn.num_nodes(t):,}", *(_coverage(mmhn, t, m) for m in mmhn.modalities)]
            for t in mmhn.node_types]
    return tabulate(rows, headers=["node type", "nodes", *mmhn.modalities], tablefmt="github", disable_numparse=True)


def relation_table(mmhn: MMHN) -> str:
    rows = [[f"{s} -{r}-> {d}", f"{mmhn.graph[s, r, d].edge_index.shape[1]:,}", ", ".join(
        k for k in mmhn.graph[s, r, d].keys() if k != "edge_index") or ""] for s, r, d in mmhn.edge_types]
    return tabulate(rows, headers=["relation", "edges", "edge attributes"], tablefmt="github", disable_numparse=True)


def class_table(mmhn: MMHN) -> str:
    labels = mmhn.labels
    labelled = int((labels >= 0).sum())
    rows = []
    for c, name in enumerate(mmhn.class_names):
        members = labels == c
        row = [name, _share(int(members.sum()), labelled)]
        for modality in mmhn.modalities:
            row.append(_share(int(mmhn.present(mmhn.target, modality)[members].sum()), int(members.sum())))
        rows.append(row)
    unlabelled = int((labels < 0).sum())
    if unlabelled:
        rows.append(["(unlabelled, in the graph)", f"{unlabelled:,}", *[""] * len(mmhn.modalities)])
    headers = ["class", f"{mmhn.target} nodes", *(f"with {m}" for m in mmhn.modalities)]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def split_line(mmhn: MMHN) -> str:
    return "; ".join(f"`{name}` {'/'.join(f'{n:,}' for n in s.sizes)} (checksum `{s.checksum}`)" for name, s in mmhn.splits.items())


def summary_markdown(mmhn: MMHN) -> str:
    parts = [f"### `{mmhn.name}`", "", node_table(mmhn), "", relation_table(mmhn), "", class_table(mmhn), "",
             f"Splits (train/val/test): {split_line(mmhn)}. Metapaths: "
             + ", ".join("-".join([p[0][0], *(e[2] for e in p)]) for p in mmhn.metapaths) + "."]
    if mmhn.notes:
        parts += ["", "Notes: " + "; ".join(f"{k}: {v}" for k, v in mmhn.notes.items()) + "."]
    return "\n".join(parts)
