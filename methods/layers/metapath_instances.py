"""Metapath instances: every walk that follows a metapath and ends at a target node.

MAGNN encodes a target node from the *instances* of each metapath ending at it (the
walks themselves, intermediate nodes included), not just from the pairs they join. This
module lists them with sparse joins (no Python loop over nodes or edges), keeps at most
``cap`` per target node by seeded sampling, and caches the result on disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from datasets.mmhn import MMHN, Metapath
from methods.layers.metapath_edges import relation_matrix
from methods.layers.seeded_sample import row_keys, smallest_keys_per_group

CACHE_FORMAT = 1  # bump when the enumeration or sampling rule changes
_CHUNK_INSTANCES = 2_000_000  # walks held at once before sampling (bounds peak memory)


@dataclass(frozen=True)
class MetapathInstances:
    """Instances of one metapath, grouped by target node.

    ``nodes[i, p]`` is the node at position ``p`` of instance ``i`` (of type
    ``node_types[p]``); the last column is the target node. Rows are sorted by target, then
    lexicographically. ``total_per_target[v]`` counts every instance ending at ``v`` before
    the cap.
    """

    metapath: Metapath
    nodes: Tensor  # [I, len(metapath) + 1] int64
    total_per_target: Tensor  # [num target nodes] int64

    @property
    def node_types(self) -> tuple[str, ...]:
        return (self.metapath[0][0],) + tuple(edge_type[2] for edge_type in self.metapath)

    @property
    def target(self) -> Tensor:
        return self.nodes[:, -1]

    @property
    def num_instances(self) -> int:
        return int(self.nodes.shape[0])

    def padded_index(self) -> tuple[Tensor, Tensor]:
        """``[N, P]`` instance ids per target node (``P`` = the largest group) and a validity mask.

        Padding slots hold 0 and are ``False`` in the mask; a node without instances has a
        row of padding only.
        """
        num_targets = int(self.total_per_target.numel())
        counts = torch.bincount(self.target, minlength=num_targets)
        width = int(counts.max()) if counts.numel() and self.num_instances else 0
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(self.num_instances) - first[self.target]
        index = torch.zeros((num_targets, width), dtype=torch.long)
        valid = torch.zeros((num_targets, width), dtype=torch.bool)
        index[self.target, rank] = torch.arange(self.num_instances)
        valid[self.target, rank] = True
        return index, valid


def _expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for every ``(s, c)``, vectorised."""
    total = int(counts.sum())
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets


def count_instances(mmhn: MMHN, metapath: Metapath) -> np.ndarray:
    """Instances ending at each target node: the column sums of the relations' product."""
    walks = np.ones(mmhn.num_nodes(metapath[0][0]), dtype=np.float64)
    for edge_type in metapath:
        walks = relation_matrix(mmhn, edge_type).T.astype(np.float64) @ walks
    return np.rint(walks).astype(np.int64)


def _enumerate_chunk(in_edges: list, first: int, stop: int) -> list[np.ndarray]:
    """All walks ending at targets ``first .. stop - 1``, as one column per position.

    Walks are grown backwards from the target: each step joins the current first node with
    its in-neighbours under the previous relation (CSC of that relation).
    """
    columns = [np.arange(first, stop, dtype=np.int64)]
    for matrix in reversed(in_edges):  # relations from the last to the first
        head = columns[0]
        counts = (matrix.indptr[head + 1] - matrix.indptr[head]).astype(np.int64)
        picks = _expand_ranges(matrix.indptr[head].astype(np.int64), counts)
        columns = [np.repeat(column, counts) for column in columns]
        columns.insert(0, matrix.indices[picks].astype(np.int64))
    return columns


def _cap_and_sort(columns: list[np.ndarray], cap: int, seed: int) -> list[np.ndarray]:
    target = columns[-1]
    if cap > 0 and len(target):
        kept = smallest_keys_per_group(target, row_keys(columns, seed), cap)
        columns = [column[kept] for column in columns]
    canonical = np.lexsort(tuple(columns))  # last column (target) is the primary key
    return [column[canonical] for column in columns]


def enumerate_instances(mmhn: MMHN, metapath: Metapath, cap: int = 0, seed: int = 0) -> MetapathInstances:
    """Every instance of ``metapath``, or, with ``cap > 0``, at most ``cap`` per target node.

    A target with more than ``cap`` instances keeps a uniform sample without replacement,
    chosen by a hash of ``(seed, instance)``: the same graph, cap and seed always give the
    same instances. Walks may revisit nodes (item-creator-item includes the item itself),
    as in MAGNN. Targets are processed in chunks of about two million walks, so peak memory
    is bounded by the chunk and the kept instances, not by all walks.
    """
    if cap < 0:
        raise ValueError(f"cap={cap}; valid: 0 (keep all) or a positive number of instances per target")
    in_edges = [relation_matrix(mmhn, edge_type).tocsc() for edge_type in metapath]
    for matrix in in_edges:
        matrix.sort_indices()
    totals = count_instances(mmhn, metapath)
    boundaries = np.searchsorted(np.cumsum(totals), np.arange(_CHUNK_INSTANCES, int(totals.sum()), _CHUNK_INSTANCES), side="right")
    edges = np.unique(np.r_[0, boundaries, len(totals)])
    parts = [_cap_and_sort(_enumerate_chunk(in_edges, int(a), int(b)), cap, seed) for a, b in zip(edges[:-1], edges[1:])]
    columns = [np.concatenate([part[p] for part in parts]) for p in range(len(metapath) + 1)]
    nodes = torch.from_numpy(np.stack(columns, axis=1)) if len(columns[0]) else torch.zeros((0, len(metapath) + 1), dtype=torch.long)
    return MetapathInstances(metapath=metapath, nodes=nodes, total_per_target=torch.from_numpy(totals))


def structure_fingerprint(mmhn: MMHN, metapath: Metapath) -> str:
    """A hash of what the instances depend on: the metapath, its node counts and its edges.

    Features and presence masks are left out, so every missing-modality setting of a
    dataset shares one cache entry.
    """
    digest = hashlib.sha256(repr((CACHE_FORMAT, metapath)).encode())
    for edge_type in metapath:
        digest.update(repr((mmhn.num_nodes(edge_type[0]), mmhn.num_nodes(edge_type[2]))).encode())
        digest.update(np.ascontiguousarray(mmhn.graph[edge_type].edge_index.detach().cpu().numpy()).tobytes())
    return digest.hexdigest()[:20]


def cached_instances(mmhn: MMHN, metapath: Metapath, cap: int, seed: int, cache_dir: Path) -> MetapathInstances:
    """:func:`enumerate_instances`, read from ``cache_dir/metapath_instances`` when done before.

    The file name holds the structure fingerprint, the cap and the seed; the file is
    written to a temporary name and renamed, so a crash never leaves a partial entry.
    """
    folder = Path(cache_dir) / "metapath_instances"
    path = folder / f"{structure_fingerprint(mmhn, metapath)}_cap{cap}_seed{seed}.pt"
    if path.is_file():
        stored = torch.load(path, weights_only=True)
        return MetapathInstances(metapath=metapath, nodes=stored["nodes"], total_per_target=stored["total_per_target"])
    instances = enumerate_instances(mmhn, metapath, cap, seed)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"nodes": instances.nodes, "total_per_target": instances.total_per_target}, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return instances
