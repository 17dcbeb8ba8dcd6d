"""Metapath-induced edges: the pairs of nodes joined by at least one instance of a metapath,
and a seeded sample of them when a metapath graph is too large to keep whole."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from datasets.mmhn import MMHN, EdgeType, Metapath
from methods.layers.seeded_sample import largest_cap_within, row_keys, smallest_keys_per_group


def relation_matrix(mmhn: MMHN, edge_type: EdgeType) -> sp.csr_matrix:
    """The relation's 0/1 adjacency, ``[num src, num dst]``, as a SciPy CSR matrix (on CPU)."""
    src, _, dst = edge_type
    edges = mmhn.graph[edge_type].edge_index.detach().cpu().numpy()
    ones = np.ones(edges.shape[1], dtype=np.float32)
    matrix = sp.csr_matrix((ones, (edges[0], edges[1])), shape=(mmhn.num_nodes(src), mmhn.num_nodes(dst)))
    matrix.data[:] = 1.0  # repeated edges count once
    return matrix


def metapath_edge_index(mmhn: MMHN, metapath: Metapath) -> Tensor:
    """``[2, E]`` edges ``u -> v`` for every pair joined by an instance of ``metapath``.

    ``u`` is a node of the metapath's first type, ``v`` of its last. The pairs are the
    non-zeros of the product of the relations' sparse adjacency matrices
    :math:`A_{r_1} A_{r_2} \\cdots A_{r_n}` (values reset to 1 after each product, so path
    counts never grow), so each pair appears once, sorted by ``(v, u)``. Self-pairs are
    kept: for a symmetric metapath such as item-creator-item every item with a creator
    reaches itself, as HAN's metapath-based neighbourhood includes the node itself (PyG's
    ``AddMetaPaths`` and DGL's ``metapath_reachable_graph`` keep them too). Computed on
    CPU; the result is on the graph's device.
    """
    reach = relation_matrix(mmhn, metapath[0])
    for edge_type in metapath[1:]:
        reach = reach @ relation_matrix(mmhn, edge_type)
        reach.data[:] = 1.0
    by_target = reach.tocsc()
    by_target.sort_indices()
    pairs = by_target.tocoo()  # column-major: grouped by target v, sources ascending
    edge_index = torch.from_numpy(np.stack([pairs.row, pairs.col]).astype(np.int64))
    return edge_index.to(mmhn.graph[metapath[-1]].edge_index.device)


def sample_metapath_neighbours(edge_index: Tensor, num_targets: int, max_pairs: int, seed: int = 0) -> tuple[Tensor, int]:
    """Cut a metapath graph to at most ``max_pairs`` pairs; returns the kept edges and the cap.

    Under the budget every pair stays and the cap is 0. Over it, each target ``v`` keeps at
    most ``k`` of its metapath neighbours, ``k`` the largest cap whose total fits the budget
    (:func:`~methods.layers.seeded_sample.largest_cap_within`), as a uniform seeded sample
    (a hash of ``(seed, u, v)``); the self-pair ``(v, v)`` is always among the kept, since
    HAN's neighbourhood includes the node itself. Kept edges stay in the input's order.
    """
    if edge_index.shape[1] <= max_pairs:
        return edge_index, 0
    src, dst = (row.numpy() for row in edge_index.detach().cpu())
    cap = largest_cap_within(np.bincount(dst, minlength=num_targets), max_pairs)
    keys = row_keys([src, dst], seed)
    keys[src == dst] = 0  # the smallest key: a self-pair is never sampled out
    kept = np.sort(smallest_keys_per_group(dst, keys, cap))
    return edge_index[:, torch.from_numpy(kept).to(edge_index.device)], cap
