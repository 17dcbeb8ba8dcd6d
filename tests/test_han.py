"""HAN: metapath graphs from the dataset's metapaths, semantic attention as a diagnostic."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from datasets.mmhn import MMHN
from methods import han
from methods.han import HAN, HANModel
from methods.layers.metapath_edges import metapath_edge_index


@pytest.fixture(scope="module")
def model(small_mmhn: MMHN) -> HANModel:
    torch.manual_seed(0)
    return HAN.build(small_mmhn, HAN.config({"hidden": 16, "heads": 2}), None).eval()  # type: ignore[arg-type]


def test_one_metapath_graph_per_dataset_metapath(model: HANModel, small_mmhn: MMHN) -> None:
    edges = model.metapath_edges()
    assert list(edges) == [("item", "metapath_0", "item"), ("item", "metapath_1", "item")]
    for (_, name, _), path in zip(edges, small_mmhn.metapaths):
        assert torch.equal(edges[("item", name, "item")], metapath_edge_index(small_mmhn, path))


def test_only_the_metapath_end_types_are_projected(model: HANModel) -> None:
    assert model.project.node_types == ("item",)


def test_semantic_attention_is_a_distribution_over_metapaths(model: HANModel, small_mmhn: MMHN) -> None:
    with torch.no_grad():
        output = model(small_mmhn)
    beta = output.diagnostics["semantic_attention"]
    assert beta.shape == (2,) and torch.all(beta > 0) and float(beta.sum()) == pytest.approx(1.0)
    assert output.logits.shape == (small_mmhn.num_nodes("item"), small_mmhn.num_classes)


def test_build_needs_metapaths(small_mmhn: MMHN) -> None:
    with pytest.raises(ValueError, match="han needs metapaths"):
        HAN.build(dataclasses.replace(small_mmhn, metapaths=()), HAN.config(), None)  # type: ignore[arg-type]


def test_metapath_graphs_within_the_budget_are_kept_whole(model: HANModel, small_mmhn: MMHN) -> None:
    with torch.no_grad():
        caps = model(small_mmhn).diagnostics["metapath_neighbour_cap"]
    assert caps.tolist() == [0, 0]  # and test_one_metapath_graph_per_dataset_metapath: every pair


def test_a_metapath_graph_over_the_budget_keeps_a_capped_sample(small_mmhn: MMHN, monkeypatch: pytest.MonkeyPatch) -> None:
    full = [metapath_edge_index(small_mmhn, path) for path in small_mmhn.metapaths]
    budget = max(e.shape[1] for e in full) - 1  # only the larger metapath graph is over it
    monkeypatch.setattr(han, "METAPATH_PAIR_BUDGET", budget)
    cut = HAN.build(small_mmhn, HAN.config({"hidden": 16, "heads": 2}), None)  # type: ignore[arg-type]
    caps = cut.neighbour_caps.tolist()
    for cap, whole, (_, kept) in zip(caps, full, cut.metapath_edges().items()):
        if whole.shape[1] <= budget:
            assert cap == 0 and torch.equal(kept, whole)
        else:
            assert cap > 0 and kept.shape[1] <= budget
            assert int(torch.bincount(kept[1]).max()) == cap
    assert sorted(caps)[0] == 0 and sorted(caps)[1] > 0
