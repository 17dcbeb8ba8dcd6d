"""The structural scores that order nodes for the non-random missing mechanisms, on a graph listed by hand.

    items i0..i5, creators c0 c1 c2, keywords k0 k1
    created_by: i0-c0, i1-c0, i2-c0 (twice), i2-c1, i3-c2      has_keyword: i3-k0, i4-k0, i0-k1

Two hops from an item, back to items: i0 reaches i1, i2 (through c0); i1 and i2 likewise
reach two; i3 reaches i4 (through k0) and i4 reaches i3; i5 has no edges. From a creator:
c0 and c1 share i2; c2 shares nothing.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from datasets.mmhn import MMHN, Split
from datasets.node_order import degree, two_hop


def hand_graph() -> MMHN:
    graph = HeteroData()
    for node_type, n in (("item", 6), ("creator", 3), ("keyword", 2)):
        graph[node_type].num_nodes = n
        graph[node_type].x_text = torch.ones(n, 2)
        graph[node_type].present_text = torch.ones(n, dtype=torch.bool)
    created_by = torch.tensor([[2, 0, 3, 1, 2, 2], [1, 0, 2, 0, 0, 0]])  # out of order, i2-c0 repeated
    has_keyword = torch.tensor([[3, 4, 0], [0, 0, 1]])
    graph["item", "created_by", "creator"].edge_index = created_by
    graph["creator", "creates", "item"].edge_index = created_by.flip(0)
    graph["item", "has_keyword", "keyword"].edge_index = has_keyword
    graph["keyword", "keyword_of", "item"].edge_index = has_keyword.flip(0)
    split = Split("s", torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, 5]))
    return MMHN(name="hand", graph=graph, modalities=("text",), target="item", labels=torch.tensor([0, 1, 0, 1, 0, 1]),
                class_names=("a", "b"), splits={"s": split})


def test_two_hop_counts_distinct_other_nodes_of_the_same_type_through_any_relation() -> None:
    mmhn = hand_graph()
    assert two_hop(mmhn, "item").tolist() == [2, 2, 2, 1, 1, 0]
    assert two_hop(mmhn, "creator").tolist() == [1, 1, 0]
    assert two_hop(mmhn, "keyword").tolist() == [0, 0]


def test_degree_counts_edges_parallel_ones_included() -> None:
    mmhn = hand_graph()
    assert degree(mmhn, "item").tolist() == [2, 1, 3, 2, 1, 0]
    assert degree(mmhn, "creator").tolist() == [4, 1, 1]


def test_two_hop_is_not_the_degree() -> None:
    # i2 has the most edges but reaches no more items than i0 or i1: a repeated or private
    # neighbour adds degree, not neighbours
    mmhn = hand_graph()
    assert np.argmax(degree(mmhn, "item")) == 2
    assert two_hop(mmhn, "item")[2] == two_hop(mmhn, "item")[0]
