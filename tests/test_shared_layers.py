"""Shared layers: segment softmax, modality readout and input projection on hand-set values."""

from __future__ import annotations

import math

import pytest
import torch

from datasets.mmhn import MMHN
from methods.layers import ModalityAttentionReadout, ModalityInputProjection, segment_softmax


def test_segment_softmax_matches_hand_values() -> None:
    scores = torch.tensor([0.0, math.log(3.0), 1.0, 5.0])
    index = torch.tensor([0, 0, 2, 2])
    out = segment_softmax(scores, index, num_segments=3)
    assert out.tolist() == pytest.approx([0.25, 0.75, 1 / (1 + math.e**4), math.e**4 / (1 + math.e**4)])


def test_segment_softmax_sums_to_one_per_segment_and_head() -> None:
    torch.manual_seed(0)
    scores, index = torch.randn(100, 4) * 30, torch.randint(0, 7, (100,))
    out = segment_softmax(scores, index, num_segments=7)
    sums = torch.zeros(7, 4).index_add_(0, index, out)
    present = torch.bincount(index, minlength=7) > 0
    assert torch.allclose(sums[present], torch.ones_like(sums[present]))
    assert torch.isfinite(out).all()


def test_segment_softmax_mask_excludes_rows_and_empty_segments_get_zero() -> None:
    scores = torch.tensor([1.0, 2.0, 3.0])
    index = torch.tensor([0, 0, 1])
    out = segment_softmax(scores, index, 2, mask=torch.tensor([True, False, False]))
    assert out.tolist() == [1.0, 0.0, 0.0]


def test_readout_hand_values_and_missing_modality_excluded() -> None:
    readout = ModalityAttentionReadout(hidden=2)
    with torch.no_grad():
        readout.score.weight.copy_(torch.tensor([[1.0, 0.0]]))
        readout.score.bias.zero_()
    # two modalities, three nodes; node 1 lacks modality 1; node 2 lacks both
    h = torch.tensor([[[0.5, 1.0], [0.2, 0.0], [1.0, 1.0]], [[-0.5, 2.0], [9.0, 9.0], [1.0, 1.0]]])
    present = torch.tensor([[True, True, False], [True, False, False]])
    z, gamma = readout(h, present)
    w0, w1 = math.tanh(0.5), math.tanh(-0.5)
    g0 = math.exp(w0) / (math.exp(w0) + math.exp(w1))
    assert gamma[:, 0].tolist() == pytest.approx([g0, 1 - g0])
    assert z[0].tolist() == pytest.approx([g0 * 0.5 + (1 - g0) * -0.5, g0 * 1.0 + (1 - g0) * 2.0])
    assert gamma[:, 1].tolist() == [1.0, 0.0] and z[1].tolist() == pytest.approx([0.2, 0.0])
    assert gamma[:, 2].tolist() == [0.0, 0.0] and z[2].tolist() == [0.0, 0.0]


def test_readout_gradients_are_finite_for_nodes_without_modalities() -> None:
    readout = ModalityAttentionReadout(hidden=3)
    h = torch.randn(2, 4, 3, requires_grad=True)
    present = torch.tensor([[True, False, False, True], [True, True, False, False]])
    z, _ = readout(h, present)
    z.sum().backward()
    assert torch.isfinite(h.grad).all() and torch.isfinite(readout.score.weight.grad).all()


def test_projection_zeroes_absent_modalities_and_skips_structural_ones(small_mmhn: MMHN) -> None:
    projection = ModalityInputProjection(small_mmhn, hidden=8)
    assert "creator__image" not in projection.linears  # zero-width: no parameters
    hidden, presence = projection(small_mmhn)
    item = hidden["item"]
    assert item.shape == (2, small_mmhn.num_nodes("item"), 8)
    absent = ~small_mmhn.present("item", "image")
    assert absent.any() and torch.all(item[1][absent] == 0)
    assert torch.all(hidden["creator"][1] == 0) and not presence["creator"][1].any()
    assert (item[0].abs().sum(dim=1) > 0).all()


def test_projection_with_missing_flags_gives_absent_entries_a_learned_vector(small_mmhn: MMHN) -> None:
    torch.manual_seed(0)
    plain = ModalityInputProjection(small_mmhn, hidden=8)
    torch.manual_seed(0)
    flagged = ModalityInputProjection(small_mmhn, hidden=8, missing_flags=True)
    # zero-initialised: an untrained flagged projection is the plain one
    assert torch.equal(plain(small_mmhn)[0]["item"], flagged(small_mmhn)[0]["item"])
    assert set(flagged.missing_embeddings) == {"item__text", "item__image", "creator__text", "keyword__text"}  # none for zero width
    with torch.no_grad():
        flagged.missing_embeddings["item__image"].fill_(2.0)
    h, present = flagged(small_mmhn)
    image = h["item"][1]  # modalities in order: text, image
    assert bool((image[~present["item"][1]] == 2.0).all())
    assert torch.equal(image[present["item"][1]], plain(small_mmhn)[0]["item"][1][present["item"][1]])
    assert sum(p.numel() for p in flagged.parameters()) - sum(p.numel() for p in plain.parameters()) == 4 * 8
