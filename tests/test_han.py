"""HAN: metapath graphs from the dataset's metapaths, semantic attention as a diagnostic."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from datasets.mmhn import MMHN
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
