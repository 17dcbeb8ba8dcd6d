"""Helpers for adapters that build an MMHN's HeteroData: relations with reverses, modalities."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from datasets.mmhn import feature_key, presence_key


def unique_edges(src: np.ndarray, dst: np.ndarray, num_dst: int) -> Tensor:
    """Deduplicated ``[2, E]`` int64 edges, sorted by (src, dst)."""
    codes = np.unique(np.asarray(src, dtype=np.int64) * num_dst + np.asarray(dst, dtype=np.int64))
    return torch.from_numpy(np.stack([codes // num_dst, codes % num_dst]))


def add_relation(graph: HeteroData, src: str, name: str, reverse: str, dst: str, edge_index: Tensor, **attributes: Tensor) -> None:
    """Add ``(src, name, dst)`` and ``(dst, reverse, src)``; per-edge attributes go to both."""
    graph[src, name, dst].edge_index = edge_index
    graph[dst, reverse, src].edge_index = edge_index.flip(0)
    for key, value in attributes.items():
        graph[src, name, dst][key] = value
        graph[dst, reverse, src][key] = value


def set_modality(graph: HeteroData, node_type: str, modality: str, x: Tensor | np.ndarray | None,
                 present: Tensor | np.ndarray | None = None) -> None:
    """Store one modality of a node type; ``x=None`` is structural absence (zero width, all false).

    ``present=None`` means every node has it. Rows marked absent are zeroed, as the data
    contract requires.
    """
    store = graph[node_type]
    n = int(store.num_nodes)
    if x is None:
        store[feature_key(modality)] = torch.zeros(n, 0)
        store[presence_key(modality)] = torch.zeros(n, dtype=torch.bool)
        return
    x = torch.as_tensor(x, dtype=torch.float32)
    present = torch.ones(n, dtype=torch.bool) if present is None else torch.as_tensor(present, dtype=torch.bool)
    x = x.clone() if not bool(present.all()) else x
    x[~present] = 0.0
    store[feature_key(modality)] = x
    store[presence_key(modality)] = present
