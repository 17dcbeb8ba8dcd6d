"""Attention over a node's modalities that ignores the modalities the node lacks."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def presence_softmax(scores: Tensor, present: Tensor) -> Tensor:
    """Softmax over modalities (dim 0 of ``[M, N]`` scores) among those each node has.

    A missing modality gets weight exactly 0; a node with no modality at all gets all-zero
    weights, with no NaN in forward or backward.
    """
    # -inf excludes a missing modality; a node with none left keeps finite scores (no
    # NaN in forward or backward) and is zeroed by the presence factor instead.
    scores = scores.masked_fill(~present & present.any(dim=0, keepdim=True), float("-inf"))
    return torch.softmax(scores, dim=0) * present


class ModalityAttentionReadout(nn.Module):
    r"""Fuse per-modality node representations with a learned, per-node modality attention.

    .. math::
        w^m_v = \tanh\big(a^\top \mathrm{Dropout}(h^m_v) + b\big), \qquad
        \gamma^m_v = \frac{p^m_v \exp(w^m_v)}{\sum_{m'} p^{m'}_v \exp(w^{m'}_v)}, \qquad
        z_v = \sum_m \gamma^m_v h^m_v

    :math:`p^m_v` is the presence flag, so a missing modality gets weight exactly 0. A node
    with no modality at all gets :math:`\gamma = 0` and :math:`z_v = 0`. This is HGNN-IMA's
    readout (with the missing-modality exclusion decided in ``docs/hgnn_ima.md``) and the
    ``attention`` fusion of late-fusion HGT.

    Input ``h`` is ``[M, N, d]`` and ``present`` ``[M, N]``; returns ``z`` ``[N, d]`` and
    ``gamma`` ``[M, N]``.
    """

    def __init__(self, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.score = nn.Linear(hidden, 1)
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.score.reset_parameters()

    def forward(self, h: Tensor, present: Tensor) -> tuple[Tensor, Tensor]:
        w = torch.tanh(self.score(self.dropout(h))).squeeze(-1)  # [M, N]
        gamma = presence_softmax(w, present)
        return (gamma.unsqueeze(-1) * h).sum(dim=0), gamma
