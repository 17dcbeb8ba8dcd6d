"""MAGNN's pieces on hand-set values: instance encoders, attention over instances, semantic attention."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from datasets.mmhn import MMHN
from methods.layers.metapath_instance_encoder import MetapathInstanceEncoder
from methods.magnn import MAGNN, MAGNNModel

CREATED_BY = ("item", "created_by", "creator")
CREATES = ("creator", "creates", "item")
ICI = (CREATED_BY, CREATES)

# One instance (u = item 0, creator 0, v = item 1). Width 4 = two complex numbers stored as
# [re_1, re_2, im_1, im_2]:  h_u = (1, i),  h_c = (i, 2),  h_v = (1 + i, 0).
TABLES = {
    "item": torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]),
    "creator": torch.tensor([[0.0, 2.0, 1.0, 0.0]]),
}
INSTANCE = torch.tensor([[0, 0, 1]])


def encoder(kind: str) -> MetapathInstanceEncoder:
    return MetapathInstanceEncoder(kind, hidden=4, metapaths=[ICI])


def test_rotate_encoder_matches_the_recurrence_by_hand() -> None:
    rotate = encoder("rotate")
    with torch.no_grad():
        rotate.angles["__".join(CREATED_BY)].copy_(torch.tensor([math.pi / 2, 0.0]))  # r_1 = (i, 1)
        rotate.angles["__".join(CREATES)].copy_(torch.tensor([math.pi / 2, math.pi]))  # r_2 = (i, -1)
    # o_0 = h_u = (1, i)
    # o_1 = h_c + o_0 * r_1 = (i, 2) + (i, i) = (2i, 2 + i)
    # o_2 = h_v + o_1 * r_2 = (1 + i, 0) + (-2, -2 - i) = (-1 + i, -2 - i);   h_P = o_2 / 3
    expected = torch.tensor([[-1 / 3, -2 / 3, 1 / 3, -1 / 3]])
    assert torch.allclose(rotate(0, TABLES, INSTANCE), expected, atol=1e-6)


def test_mean_and_linear_encoders_by_hand() -> None:
    mean = torch.tensor([[2 / 3, 2 / 3, 2 / 3, 1 / 3]])  # (h_u + h_c + h_v) / 3
    assert torch.allclose(encoder("mean")(0, TABLES, INSTANCE), mean)
    linear = encoder("linear")
    with torch.no_grad():
        linear.linears[0].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1]]))
        linear.linears[0].bias.copy_(torch.tensor([0.5, 0.0, 0.0, -1.0]))
    assert torch.allclose(linear(0, TABLES, INSTANCE), torch.tensor([[2 / 3 + 0.5, 4 / 3, 1 / 3, 7 / 3 - 1]]))


def test_rotate_encoder_rejects_odd_width() -> None:
    with pytest.raises(ValueError, match="even hidden width"):
        MetapathInstanceEncoder("rotate", hidden=5, metapaths=[ICI])


@pytest.fixture(scope="module")
def model(small_mmhn: MMHN, tmp_path_factory: pytest.TempPathFactory) -> MAGNNModel:
    torch.manual_seed(0)
    config = MAGNN.config({"hidden": 16, "heads": 4, "max_instances": 30})
    return MAGNN.build(small_mmhn, config, tmp_path_factory.mktemp("cache")).eval()


def test_instance_attention_sums_to_one_per_target_and_head(model: MAGNNModel, small_mmhn: MMHN) -> None:
    tables = model.input(small_mmhn)
    n = small_mmhn.num_nodes("item")
    for j in range(len(small_mmhn.metapaths)):
        _, alpha = model.metapath_embedding(j, tables)
        target = getattr(model, f"nodes_{j}")[:, -1]
        sums = torch.zeros(n, alpha.shape[1]).index_add_(0, target, alpha)
        has_instances = torch.bincount(target, minlength=n) > 0
        assert has_instances.all()  # every item has a creator and a keyword, so itself as an instance
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)


@pytest.mark.parametrize("kind", ["rotate", "linear", "mean"])
def test_factored_aggregation_equals_the_plain_equations(small_mmhn: MMHN, tmp_path: Path, kind: str) -> None:
    """Scores and weighted sums computed per position equal those computed on whole codes."""
    torch.manual_seed(0)
    model = MAGNN.build(small_mmhn, MAGNN.config({"hidden": 16, "heads": 4, "max_instances": 30, "encoder": kind}), tmp_path)
    with torch.no_grad():
        if kind == "linear":
            model.encoder.linears[0].bias.normal_()  # a bias large enough to matter
        tables = model.input(small_mmhn)
        n = small_mmhn.num_nodes("item")
        embedding, alpha = model.metapath_embedding(0, tables)
        nodes = model.nodes_0
        codes = model.encoder(0, tables, nodes)  # [I, d]
        target = nodes[:, -1]
        scores = (tables["item"] @ model.attend_target[0])[target] + codes @ model.attend_instance[0]
        expected_alpha = _softmax_per_target(F.leaky_relu(scores, 0.2), target, n)
        plain = torch.stack([torch.zeros(n, codes.shape[1]).index_add_(0, target, expected_alpha[:, k:k + 1] * codes)
                             for k in range(alpha.shape[1])], dim=1)
    assert torch.allclose(alpha, expected_alpha, atol=1e-6)
    assert torch.allclose(embedding, F.elu(plain).reshape(n, -1), atol=1e-5)


def _softmax_per_target(scores: torch.Tensor, target: torch.Tensor, n: int) -> torch.Tensor:
    """The plain definition: a dense softmax over each target's rows, one target at a time."""
    out = torch.empty_like(scores)
    for v in range(n):
        rows = target == v
        out[rows] = torch.softmax(scores[rows], dim=0)
    return out


def test_cap_bounds_instances_per_target(model: MAGNNModel, small_mmhn: MMHN) -> None:
    for j in range(len(small_mmhn.metapaths)):
        counts = torch.bincount(getattr(model, f"nodes_{j}")[:, -1])
        assert int(counts.max()) <= 30


def test_semantic_attention_is_a_distribution_over_metapaths(model: MAGNNModel, small_mmhn: MMHN) -> None:
    beta = model(small_mmhn).diagnostics["semantic_attention"]
    assert beta.shape == (len(small_mmhn.metapaths),)
    assert torch.all(beta > 0) and float(beta.sum()) == pytest.approx(1.0)


def test_build_needs_metapaths(small_mmhn: MMHN, tmp_path: Path) -> None:
    import dataclasses

    with pytest.raises(ValueError, match="magnn needs metapaths"):
        MAGNN.build(dataclasses.replace(small_mmhn, metapaths=()), MAGNN.config(), tmp_path)
