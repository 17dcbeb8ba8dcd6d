"""Per node type, per modality input projections onto one hidden width."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from datasets.mmhn import MMHN

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda x: x}


class ModalityInputProjection(nn.Module):
    r"""Project every modality of every node type to a common width, keeping modalities apart.

    .. math::
        h^{m}_v = \mathrm{act}\big(W^{m}_{\tau(v)} x^{m}_v + b^{m}_{\tau(v)}\big) \cdot p^{m}_v

    where :math:`p^m_v \in \{0, 1\}` is the presence flag: an absent modality gives the
    zero vector, whatever its (zero) input and the bias. A (type, modality) pair with a
    zero-width feature matrix (structural missingness) has no parameters and yields zeros.

    With ``missing_flags=True`` the model also *sees* the flag: an absent modality yields a
    learned vector instead of zeros,

    .. math::
        h^{m}_v = \mathrm{act}\big(W^{m}_{\tau(v)} x^{m}_v + b^{m}_{\tau(v)}\big) \cdot p^{m}_v
                  + e^{m}_{\tau(v)} \cdot (1 - p^{m}_v)

    which, for any linear layer that follows, is the same as appending :math:`p^m_v` to its
    input (up to a bias): the missing-indicator baseline (missingness flags as extra inputs,
    e.g. Lipton, Kale & Wetzel, MLHC 2016). :math:`e` starts at zero, so an untrained model
    behaves as without flags. Structural pairs (zero width) get no :math:`e`: a constant per
    node type carries no information about the node.

    ``forward`` returns, per node type, a ``[M, N, hidden]`` tensor (modalities stacked in
    ``mmhn.modalities`` order, or the order of ``modalities`` when a subset is given, e.g.
    one late-fusion branch) and the ``[M, N]`` boolean presence. ``node_types`` restricts
    the projection (and its parameters) to the types a model reads (e.g. HAN's metapath
    ends).

    ``batch_norm=True`` puts a BatchNorm before each Linear (one variant of HGNN-IMA's code),
    with batch statistics over the rows that have the modality only: zero-filled absent rows
    would otherwise pull the mean towards 0.
    """

    def __init__(
        self, mmhn: MMHN, hidden: int, activation: str = "tanh", modalities: Sequence[str] | None = None,
        node_types: Sequence[str] | None = None, batch_norm: bool = False,
        missing_flags: bool = False,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation={activation!r}; valid: {', '.join(_ACTIVATIONS)}")
        self.hidden = hidden
        self.activation = activation
        self.modalities = tuple(mmhn.modalities if modalities is None else modalities)
        unknown = [m for m in self.modalities if m not in mmhn.modalities]
        if unknown or not self.modalities:
            raise ValueError(f"modalities={self.modalities!r}; valid: a non-empty subset of {', '.join(mmhn.modalities)}")
        self.node_types = tuple(mmhn.node_types if node_types is None else node_types)
        unknown_types = [t for t in self.node_types if t not in mmhn.node_types]
        if unknown_types or not self.node_types:
            raise ValueError(f"node_types={self.node_types!r}; valid: a non-empty subset of {', '.join(mmhn.node_types)}")
        self.linears = nn.ModuleDict()
        self.norms = nn.ModuleDict()
        self.missing_flags = missing_flags
        self.missing_embeddings = nn.ParameterDict()
        for node_type in self.node_types:
            for modality in self.modalities:
                width = mmhn.feature_dim(node_type, modality)
                if width > 0:
                    self.linears[self._key(node_type, modality)] = nn.Linear(width, hidden)
                    if batch_norm:
                        self.norms[self._key(node_type, modality)] = nn.BatchNorm1d(width)
                    if missing_flags:
                        self.missing_embeddings[self._key(node_type, modality)] = nn.Parameter(torch.zeros(hidden))
        self.reset_parameters()

    @staticmethod
    def _key(node_type: str, modality: str) -> str:
        return f"{node_type}__{modality}"

    def reset_parameters(self) -> None:
        for module in (*self.linears.values(), *self.norms.values()):
            module.reset_parameters()
        for embedding in self.missing_embeddings.values():
            nn.init.zeros_(embedding)

    def forward(self, mmhn: MMHN) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        act = _ACTIVATIONS[self.activation]
        hidden: dict[str, Tensor] = {}
        presence: dict[str, Tensor] = {}
        for node_type in self.node_types:
            streams, flags = [], []
            for modality in self.modalities:
                present = mmhn.present(node_type, modality)
                key = self._key(node_type, modality)
                if key in self.linears:
                    x = mmhn.x(node_type, modality)
                    if key in self.norms:
                        x = _normalize_present_rows(self.norms[key], x, present)
                    h = act(self.linears[key](x)) * present.unsqueeze(-1)
                    if key in self.missing_embeddings:
                        h = h + self.missing_embeddings[key] * (~present).unsqueeze(-1)
                else:
                    h = present.new_zeros((present.shape[0], self.hidden), dtype=torch.float32)
                streams.append(h)
                flags.append(present)
            hidden[node_type] = torch.stack(streams)
            presence[node_type] = torch.stack(flags)
        return hidden, presence


def _normalize_present_rows(norm: nn.BatchNorm1d, x: Tensor, present: Tensor) -> Tensor:
    """BatchNorm over the rows whose modality is present; absent rows stay zero."""
    rows = present.nonzero().squeeze(1)
    if norm.training and rows.numel() < 2:  # batch statistics need two rows
        return x
    return torch.zeros_like(x).index_copy(0, rows, norm(x[rows]))
