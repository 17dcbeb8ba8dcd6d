"""The fused per-edge kernels give the values and gradients of a plain loop over edges."""

from __future__ import annotations

import pytest
import torch

from methods.layers.edge_products import EdgePattern, edge_messages, edge_scores

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# 6 edges src -> dst, sorted by (dst, src); node 3 receives nothing; one duplicate edge
DST = torch.tensor([0, 1, 1, 2, 2, 2])
SRC = torch.tensor([1, 0, 1, 0, 2, 2])


def pattern() -> EdgePattern:
    return EdgePattern.from_sorted(DST, SRC, num_dst=4, num_src=3)


def test_edge_scores_match_a_loop_and_pass_gradcheck() -> None:
    torch.manual_seed(0)
    rows = torch.randn(2, 4, 5, dtype=torch.float64, requires_grad=True)
    cols = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    out = edge_scores(pattern(), rows, cols)
    for b in range(2):
        for e in range(6):
            assert float(out[b, e].detach()) == pytest.approx(float((rows[b, DST[e]] @ cols[b, SRC[e]]).detach()))
    assert torch.autograd.gradcheck(lambda r, c: edge_scores(pattern(), r, c), (rows, cols))


def test_edge_messages_match_a_loop_and_pass_gradcheck() -> None:
    torch.manual_seed(1)
    weights = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    cols = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    out = edge_messages(pattern(), weights, cols)
    expected = torch.zeros(2, 4, 5, dtype=torch.float64)
    for b in range(2):
        for e in range(6):
            expected[b, DST[e]] += weights[b, e] * cols[b, SRC[e]]
    assert torch.allclose(out, expected) and torch.all(out[:, 3] == 0)
    assert torch.autograd.gradcheck(lambda w, c: edge_messages(pattern(), w, c), (weights, cols))


def test_unsorted_edges_are_rejected() -> None:
    with pytest.raises(ValueError, match="sorted"):
        EdgePattern.from_sorted(DST.flip(0), SRC.flip(0), 4, 3)
