"""Early fusion at the input: per-modality projections concatenated, then one linear per type."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from datasets.mmhn import MMHN
from methods.layers.input_projection import ModalityInputProjection


def concat_modalities(streams: Tensor) -> Tensor:
    """``[M, N, d] -> [N, M*d]``: the modality blocks of each node side by side."""
    return streams.permute(1, 0, 2).reshape(streams.shape[1], -1)


class EarlyFusionInput(nn.Module):
    r"""One vector per node from all of its modalities, fused by concatenation.

    .. math::
        h^{m}_v = \tanh(W^{m}_{\tau(v)} x^{m}_v + b^{m}_{\tau(v)}) \cdot p^m_v, \qquad
        h_v = W^{fuse}_{\tau(v)} \big[\, h^{m_1}_v \,\|\, h^{m_2}_v \,\|\, \dots \big] + b^{fuse}_{\tau(v)}

    A missing modality contributes a zero block (:class:`ModalityInputProjection`), or a
    learned one with ``missing_flags`` (the model then sees the flag). With
    ``modalities`` a subset (one late-fusion branch), the other modalities are not read at
    all; with ``node_types`` a subset, only those types get an output. A node type that lacks every selected modality structurally gets the constant
    :math:`b^{fuse}_{\tau}`: its nodes carry no information of their own.

    Construction initialises every weight; ``reset_parameters()`` draws them again (the
    owning model calls it once, so a model's random initialisation is one fixed sequence).
    """

    def __init__(
        self, mmhn: MMHN, hidden: int, modalities: Sequence[str] | None = None, node_types: Sequence[str] | None = None,
        missing_flags: bool = False,
    ) -> None:
        super().__init__()
        self.project = ModalityInputProjection(mmhn, hidden, activation="tanh", modalities=modalities, node_types=node_types,
                                               missing_flags=missing_flags)
        width = hidden * len(self.project.modalities)
        self.fuse = nn.ModuleDict({t: nn.Linear(width, hidden) for t in self.project.node_types})

    def reset_parameters(self) -> None:
        self.project.reset_parameters()
        for linear in self.fuse.values():
            linear.reset_parameters()

    def forward(self, mmhn: MMHN) -> dict[str, Tensor]:
        streams, _ = self.project(mmhn)
        return {t: self.fuse[t](concat_modalities(h)) for t, h in streams.items()}
