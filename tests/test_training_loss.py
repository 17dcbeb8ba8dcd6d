"""The harness's training loss: fused cross-entropy + model aux loss + auxiliary logits on train rows."""

from __future__ import annotations

import math

import pytest
import torch

from benchmark.run import training_loss
from methods.method import AuxiliaryLogits, MethodOutput


def ce(logits: list[float], label: int) -> float:
    return -logits[label] + math.log(sum(math.exp(v) for v in logits))


def test_auxiliary_logits_count_only_train_rows_that_their_mask_keeps() -> None:
    fused = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [0.5, 0.5]])
    extra = torch.tensor([[0.0, 1.0], [5.0, 0.0], [2.0, 2.0], [9.0, -9.0]])
    labels = torch.tensor([0, 1, 1, 0])
    train = torch.tensor([0, 1, 2])  # row 3 is not a train row: its label is never read
    mask = torch.tensor([True, False, True, True])  # row 1 lacks the modality
    output = MethodOutput(logits=fused, aux_loss=torch.tensor(0.25), aux_logits=[AuxiliaryLogits(extra, 0.5, mask)])
    expected = (ce([1, 0], 0) + ce([0, 2], 1) + ce([3, 1], 1)) / 3 + 0.25 + 0.5 * (ce([0, 1], 0) + ce([2, 2], 1)) / 2
    assert float(training_loss(output, labels, train)) == pytest.approx(expected, rel=1e-6)


def test_without_extras_the_loss_is_the_plain_cross_entropy() -> None:
    fused = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    labels = torch.tensor([1, 1])
    loss = training_loss(MethodOutput(logits=fused), labels, torch.tensor([0, 1]))
    assert float(loss) == pytest.approx((ce([1, 0], 1) + ce([0, 2], 1)) / 2, rel=1e-6)
