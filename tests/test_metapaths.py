"""Metapath edges (HAN) and metapath instances (MAGNN) on a graph small enough to list by hand.

    items i0 i1 i2 i3, creators c0 c1 c2;  i0-c0, i1-c0, i2-c0, i2-c1, i3-c2

The metapath item-creator-item (ICI) has, per target item, the walks u-c-v:
i0: (0,0,0) (1,0,0) (2,0,0); i1: (0,0,1) (1,0,1) (2,0,1);
i2: (0,0,2) (1,0,2) (2,0,2) (2,1,2); i3: (3,2,3).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import HeteroData

from datasets.mmhn import MMHN, Split
from datasets.synthetic import SyntheticOptions, generate
from methods.layers import metapath_instances
from methods.layers.metapath_edges import metapath_edge_index
from methods.layers.metapath_instances import cached_instances, count_instances, enumerate_instances

CREATED_BY = ("item", "created_by", "creator")
CREATES = ("creator", "creates", "item")
ICI = (CREATED_BY, CREATES)
CICI = (CREATES, CREATED_BY, CREATES)  # starts at a creator: creator-item-creator-item

ICI_INSTANCES = [
    (0, 0, 0), (1, 0, 0), (2, 0, 0),
    (0, 0, 1), (1, 0, 1), (2, 0, 1),
    (0, 0, 2), (1, 0, 2), (2, 0, 2), (2, 1, 2),
    (3, 2, 3),
]


def tiny_graph() -> MMHN:
    graph = HeteroData()
    for node_type, n in (("item", 4), ("creator", 3)):
        graph[node_type].num_nodes = n
        graph[node_type].x_text = torch.ones(n, 2)
        graph[node_type].present_text = torch.ones(n, dtype=torch.bool)
    # listed out of order and with a repeated edge: neither may change the result
    edges = torch.tensor([[2, 0, 3, 1, 2, 0], [1, 0, 2, 0, 0, 0]])
    graph[CREATED_BY].edge_index = edges
    graph[CREATES].edge_index = edges.flip(0)
    labels = torch.tensor([0, 1, 0, 1])
    split = Split("s", torch.tensor([0]), torch.tensor([1]), torch.tensor([2, 3]))
    return MMHN(name="tiny", graph=graph, modalities=("text",), target="item", labels=labels,
                class_names=("a", "b"), splits={"s": split}, metapaths=(ICI,))


def rows(instances: torch.Tensor) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in row) for row in instances]


def test_metapath_edges_are_the_deduplicated_pairs_including_self() -> None:
    pairs = metapath_edge_index(tiny_graph(), ICI)
    expected = sorted({(u, v) for u, _, v in ICI_INSTANCES}, key=lambda p: (p[1], p[0]))
    assert [tuple(p) for p in pairs.T.tolist()] == expected


def test_enumeration_lists_exactly_the_walks_sorted_by_target() -> None:
    instances = enumerate_instances(tiny_graph(), ICI)
    assert rows(instances.nodes) == ICI_INSTANCES
    assert instances.node_types == ("item", "creator", "item")
    assert instances.total_per_target.tolist() == [3, 3, 4, 1]


def test_enumeration_of_a_longer_metapath_starting_elsewhere() -> None:
    instances = enumerate_instances(tiny_graph(), CICI)
    by_target = {v: sorted(r for r in rows(instances.nodes) if r[-1] == v) for v in range(4)}
    # ending at i2 through c0 (items i0, i1, i2) or c1 (item i2), then any creator of that item
    assert by_target[2] == sorted([(0, 0, 0, 2), (0, 1, 0, 2), (0, 2, 0, 2), (1, 2, 0, 2), (0, 2, 1, 2), (1, 2, 1, 2)])
    assert by_target[3] == [(2, 3, 2, 3)]
    assert instances.total_per_target.tolist() == [len(by_target[v]) for v in range(4)]
    # i0 (and i1): through c0, items i0 i1 i2, whose creators are c0, c0, c0|c1: 4 walks
    assert count_instances(tiny_graph(), CICI).tolist() == [4, 4, 6, 1]


def test_cap_keeps_a_subset_of_at_most_cap_per_target_and_all_of_small_groups() -> None:
    capped = enumerate_instances(tiny_graph(), ICI, cap=2, seed=0)
    kept = rows(capped.nodes)
    assert set(kept) <= set(ICI_INSTANCES) and len(set(kept)) == len(kept)
    assert torch.bincount(capped.target, minlength=4).tolist() == [2, 2, 2, 1]
    assert capped.total_per_target.tolist() == [3, 3, 4, 1]  # counts before the cap


def test_sampling_is_a_function_of_the_seed_only() -> None:
    mmhn = generate(SyntheticOptions(scale=0.1))
    path = mmhn.metapaths[1]
    first = enumerate_instances(mmhn, path, cap=5, seed=3)
    assert torch.equal(first.nodes, enumerate_instances(mmhn, path, cap=5, seed=3).nodes)
    assert not torch.equal(first.nodes, enumerate_instances(mmhn, path, cap=5, seed=4).nodes)


def test_sampling_does_not_depend_on_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    mmhn = generate(SyntheticOptions(scale=0.1))
    path = mmhn.metapaths[1]
    whole = enumerate_instances(mmhn, path, cap=5, seed=0)
    monkeypatch.setattr(metapath_instances, "_CHUNK_INSTANCES", 50)  # many chunks
    assert torch.equal(whole.nodes, enumerate_instances(mmhn, path, cap=5, seed=0).nodes)


def test_sampling_is_uniform_within_a_target() -> None:
    """i2 has 4 instances and keeps 2: over 400 seeds each should be kept about 200 times."""
    kept = {instance: 0 for instance in ICI_INSTANCES if instance[-1] == 2}
    for seed in range(400):
        for instance in rows(enumerate_instances(tiny_graph(), ICI, cap=2, seed=seed).nodes):
            if instance[-1] == 2:
                kept[instance] += 1
    assert all(150 <= count <= 250 for count in kept.values()), kept  # +-5 standard deviations


def test_padded_index_groups_instances_by_target() -> None:
    instances = enumerate_instances(tiny_graph(), ICI)
    index, valid = instances.padded_index()
    assert index.shape == (4, 4) and valid.sum(dim=1).tolist() == [3, 3, 4, 1]
    for v in range(4):
        assert rows(instances.nodes[index[v][valid[v]]]) == [r for r in ICI_INSTANCES if r[-1] == v]


def test_cache_writes_once_and_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mmhn = tiny_graph()
    first = cached_instances(mmhn, ICI, cap=2, seed=0, cache_dir=tmp_path)
    files = list((tmp_path / "metapath_instances").iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"

    def no_enumeration(*args: object, **kwargs: object) -> None:
        raise AssertionError("enumerated again despite the cache")

    monkeypatch.setattr(metapath_instances, "enumerate_instances", no_enumeration)
    again = cached_instances(mmhn, ICI, cap=2, seed=0, cache_dir=tmp_path)
    assert torch.equal(first.nodes, again.nodes) and torch.equal(first.total_per_target, again.total_per_target)


def test_cache_keys_on_cap_seed_and_edges_not_features(tmp_path: Path) -> None:
    mmhn = tiny_graph()
    cached_instances(mmhn, ICI, cap=2, seed=0, cache_dir=tmp_path)
    cached_instances(mmhn, ICI, cap=3, seed=0, cache_dir=tmp_path)
    cached_instances(mmhn, ICI, cap=2, seed=1, cache_dir=tmp_path)
    cached_instances(mmhn.with_features("item", "text", torch.zeros(4, 2), torch.ones(4, dtype=torch.bool)), ICI, 2, 0, tmp_path)
    assert len(list((tmp_path / "metapath_instances").iterdir())) == 3


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(metapath_instances.torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        cached_instances(tiny_graph(), ICI, cap=2, seed=0, cache_dir=tmp_path)
    assert list((tmp_path / "metapath_instances").iterdir()) == []
