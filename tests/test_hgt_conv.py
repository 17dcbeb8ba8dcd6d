"""BatchedRelationHGTConv is PyG's HGTConv computed differently: same parameters, same numbers."""

from __future__ import annotations

import torch
from torch_geometric.nn import HGTConv

from methods.layers import BatchedRelationHGTConv, HGTEncoder

# Two relations leave node type "a", so keys of one source row differ per relation.
NODES = {"a": 5, "b": 3}
EDGES = {
    ("a", "to", "b"): torch.tensor([[0, 1, 4, 4], [0, 0, 1, 2]]),
    ("b", "back", "a"): torch.tensor([[0, 1, 2], [3, 4, 0]]),
    ("a", "likes", "a"): torch.tensor([[0, 2, 3], [1, 1, 4]]),
}
METADATA = (list(NODES), list(EDGES))


def _pair(channels: int = 12, heads: int = 3) -> tuple[HGTConv, BatchedRelationHGTConv]:
    torch.manual_seed(0)
    reference = HGTConv(channels, channels, METADATA, heads=heads)
    torch.manual_seed(0)
    batched = BatchedRelationHGTConv(channels, channels, METADATA, heads=heads)
    with torch.no_grad():  # PyG initialises the relation priors to one; make them differ
        for prior in (*reference.p_rel.values(), *batched.p_rel.values()):
            prior.copy_(torch.tensor([[0.5, 1.0, 2.0]]))
    return reference, batched


def _inputs(channels: int = 12) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return {t: torch.randn(n, channels, requires_grad=True) for t, n in NODES.items()}


def test_same_parameters_and_initialisation_as_pyg() -> None:
    reference, batched = _pair()
    assert reference.state_dict().keys() == batched.state_dict().keys()
    for name, value in reference.state_dict().items():
        assert torch.equal(value, batched.state_dict()[name]), name


def test_outputs_equal_pyg_hgtconv() -> None:
    reference, batched = _pair()
    x = _inputs()
    expected, got = reference(x, EDGES), batched(x, EDGES)
    assert expected.keys() == got.keys()
    for node_type in expected:
        torch.testing.assert_close(got[node_type], expected[node_type], rtol=1e-6, atol=1e-6)


def test_gradients_equal_pyg_hgtconv_for_parameters_and_inputs() -> None:
    reference, batched = _pair()
    x = _inputs()
    weights = {t: torch.randn(n, 12) for t, n in NODES.items()}  # a loss that weighs every output entry

    def grads(conv: HGTConv) -> list[torch.Tensor]:
        loss = sum((out * weights[t]).sum() for t, out in conv(x, EDGES).items())
        return list(torch.autograd.grad(loss, [*conv.parameters(), *x.values()], allow_unused=True))

    for expected, got in zip(grads(reference), grads(batched)):
        if expected is None:
            assert got is None
        else:
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_relation_weight_is_the_one_for_head_and_relation() -> None:
    """Zeroing W_{h,r} for head 1 of relation a-likes-a removes exactly that head's messages
    along that relation: b's output (fed by a-to-b only) is unchanged."""
    reference, batched = _pair()
    x = _inputs()
    before = batched(x, EDGES)
    relation = METADATA[1].index(("a", "likes", "a"))
    with torch.no_grad():
        batched.v_rel.weight[1 * len(EDGES) + relation].zero_()
        reference.v_rel.weight[1 * len(EDGES) + relation].zero_()
    after = batched(x, EDGES)
    torch.testing.assert_close(after["b"], before["b"])
    assert not torch.allclose(after["a"], before["a"])
    torch.testing.assert_close(after["a"], reference(x, EDGES)["a"], rtol=1e-6, atol=1e-6)


def test_hgt_encoder_uses_the_batched_layer(small_mmhn) -> None:
    encoder = HGTEncoder(small_mmhn, hidden=8, heads=2, layers=2, dropout=0.0)
    assert all(type(conv) is BatchedRelationHGTConv for conv in encoder.convs)
