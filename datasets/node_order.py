"""Structural scores that order a node type's nodes for the non-random missing mechanisms.

Both count something the graph offers a node, so ordering by them (lowest first) drops a
modality where the graph can least stand in for it:

* :func:`degree`: the edges at a node, over every relation it is the source of (each relation
  has its reverse, so this is its degree).
* :func:`two_hop`: the distinct *other* nodes of its own type one relation away and back: for
  IMDB's movies, the movies that share a director or an actor with it. A schema can fix the
  degree (every IMDB movie but four has one director and three actors) but not this count,
  which spreads from 0 to 118 there (median 16).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from datasets.mmhn import MMHN


def degree(mmhn: MMHN, node_type: str) -> np.ndarray:
    n = mmhn.num_nodes(node_type)
    out = np.zeros(n, dtype=np.int64)
    for (src, _, _), edge_index in mmhn.edge_index_dict.items():
        if src == node_type:
            out += np.bincount(edge_index[0].cpu().numpy(), minlength=n)
    return out


def two_hop(mmhn: MMHN, node_type: str) -> np.ndarray:
    """Per node, how many other nodes of ``node_type`` share at least one neighbour with it."""
    n = mmhn.num_nodes(node_type)
    reach = sparse.csr_matrix((n, n), dtype=np.int64)
    for (src, _, dst), edge_index in mmhn.edge_index_dict.items():
        if src != node_type:
            continue
        src_index, dst_index = edge_index.cpu().numpy()
        adjacency = sparse.csr_matrix((np.ones(len(src_index), dtype=np.int64), (src_index, dst_index)), shape=(n, mmhn.num_nodes(dst)))
        reach = reach + adjacency @ adjacency.T
    reach = (reach > 0).tocsr()  # how many paths, or parallel edges, link two nodes does not matter
    return np.diff(reach.indptr) - reach.diagonal().astype(np.int64)  # a node with any edge reaches itself: not counted
