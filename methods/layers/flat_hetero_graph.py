"""A heterogeneous graph laid out flat: one node index space, one edge list with relation ids."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch import Tensor

from datasets.mmhn import MMHN, EdgeType
from methods.layers.edge_products import EdgePattern


@dataclass(frozen=True)
class FlatHeteroGraph:
    """All node types in one index space (types in contiguous blocks) and all relations in one
    edge list, so attention over every relation runs as one vectorised pass.

    * node ``v`` of type ``t`` has global index ``node_offsets[t] + v``;
    * edge ``e`` runs from ``src[e]`` to ``dst[e]`` (global indices) in relation ``rel[e]``
      (an index into ``relations``, which follows ``mmhn.edge_types``); edges are sorted by
      target, then source row (CSR order, what the sparse kernels of ``pattern`` need);
    * ``src_row[e]`` indexes a *relation-source table*: the rows of relation ``r``'s source
      type, block ``r`` starting at ``source_table_offsets[r]`` (``num_source_rows`` in
      all). A per-relation transform of node features (``k_s W^r``) is computed once per
      source node in that table, not once per edge;
    * ``segment[e]``: the (relation, target) group over which a per-relation softmax over
      neighbours normalises; relation ``r``'s groups are its target type's nodes, numbered
      from ``segment_offsets[r]`` (``num_segments`` groups in all, no empty ones for pairs
      of a relation and a node of another type);
    * ``relations_into[t]``: how many relations end at node type ``t`` (for the mean over
      relations, DGL's cross-type ``mean``; at least 1).
    """

    node_types: tuple[str, ...]
    node_offsets: dict[str, int]
    node_counts: tuple[int, ...]  # per type, in ``node_types`` order
    num_nodes: int
    relations: tuple[EdgeType, ...]
    source_table_offsets: tuple[int, ...]
    num_source_rows: int
    segment_offsets: tuple[int, ...]
    num_segments: int
    src: Tensor
    dst: Tensor
    rel: Tensor
    src_row: Tensor
    segment: Tensor
    relations_into: dict[str, int]
    pattern: EdgePattern  # (dst, src_row) as a sparse pattern for the fused per-edge kernels

    @classmethod
    def from_mmhn(cls, mmhn: MMHN) -> FlatHeteroGraph:
        node_types = tuple(mmhn.node_types)
        offsets, total = {}, 0
        for node_type in node_types:
            offsets[node_type] = total
            total += mmhn.num_nodes(node_type)
        relations = tuple(mmhn.edge_types)
        edge_index = mmhn.edge_index_dict
        device = mmhn.labels.device
        src, dst, rel, src_row, segment = [], [], [], [], []
        table_offsets, segment_offsets, table, segments = [], [], 0, 0
        into = dict.fromkeys(node_types, 0)
        for r, relation in enumerate(relations):
            src_type, _, dst_type = relation
            index = edge_index[relation]
            src.append(index[0] + offsets[src_type])
            dst.append(index[1] + offsets[dst_type])
            rel.append(torch.full_like(index[0], r))
            src_row.append(index[0] + table)
            segment.append(index[1] + segments)
            table_offsets.append(table)
            segment_offsets.append(segments)
            table += mmhn.num_nodes(src_type)
            segments += mmhn.num_nodes(dst_type)
            into[dst_type] += 1
        empty = torch.zeros(0, dtype=torch.long, device=device)
        edges = [torch.cat(parts) if parts else empty for parts in (src, dst, rel, src_row, segment)]
        order = torch.argsort(edges[1] * max(table, 1) + edges[3])  # CSR order: by target, then source row
        src_t, dst_t, rel_t, src_row_t, segment_t = (e[order] for e in edges)
        return cls(
            node_types=node_types,
            node_offsets=offsets,
            node_counts=tuple(mmhn.num_nodes(t) for t in node_types),
            num_nodes=total,
            relations=relations,
            source_table_offsets=tuple(table_offsets),
            num_source_rows=table,
            segment_offsets=tuple(segment_offsets),
            num_segments=segments,
            src=src_t,
            dst=dst_t,
            rel=rel_t,
            src_row=src_row_t,
            segment=segment_t,
            relations_into={t: max(n, 1) for t, n in into.items()},
            pattern=EdgePattern.from_sorted(dst_t, src_row_t, total, table),
        )

    @property
    def num_relations(self) -> int:
        return len(self.relations)


class FlatHeteroGraphCache:
    """The flat layout of the last graph seen, rebuilt only when the graph changes.

    A model sees the same graph every epoch; building the layout (sorting the edges, the
    sparse patterns) each forward pass would cost a few percent of an epoch. The cache
    holds weak references to the edge tensors it was built from and reuses the layout only
    while every one is the very same tensor object, unmodified (same ``_version``), with
    the same node counts; anything else rebuilds it.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._refs: list[weakref.ref] = []
        self._graph: FlatHeteroGraph | None = None

    def get(self, mmhn: MMHN) -> FlatHeteroGraph:
        tensors = [mmhn.edge_index_dict[e] for e in mmhn.edge_types]
        key = (tuple(mmhn.edge_types), tuple(mmhn.num_nodes(t) for t in mmhn.node_types), tuple(t._version for t in tensors))
        same = self._graph is not None and key == self._key and all(ref() is t for ref, t in zip(self._refs, tensors))
        if not same:
            self._graph = FlatHeteroGraph.from_mmhn(mmhn)
            self._key, self._refs = key, [weakref.ref(t) for t in tensors]
        assert self._graph is not None
        return self._graph
