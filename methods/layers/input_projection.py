"""Per node type, per modality input projections onto one hidden width."""

from __future__ import annotations

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
    ``mmhn.modalities`` order) and the ``[M, N]`` boolean presence.
    """

    def __init__(self, mmhn: MMHN, hidden: int, activation: str = "tanh", missing_flags: bool = False) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation={activation!r}; valid: {', '.join(_ACTIVATIONS)}")
        self.hidden = hidden
        self.activation = activation
        self.modalities = tuple(mmhn.modalities)
        self.node_types = tuple(mmhn.node_types)
        self.missing_flags = missing_flags
        self.linears = nn.ModuleDict()
        self.missing_embeddings = nn.ParameterDict()
        for node_type in self.node_types:
            for modality in self.modalities:
                width = mmhn.feature_dim(node_type, modality)
                if width > 0:
                    self.linears[self._key(node_type, modality)] = nn.Linear(width, hidden)
                    if missing_flags:
                        self.missing_embeddings[self._key(node_type, modality)] = nn.Parameter(torch.zeros(hidden))
        self.reset_parameters()

    @staticmethod
    def _key(node_type: str, modality: str) -> str:
        return f"{node_type}__{modality}"

    def reset_parameters(self) -> None:
        for linear in self.linears.values():
            linear.reset_parameters()
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
                    h = act(self.linears[key](mmhn.x(node_type, modality))) * present.unsqueeze(-1)
                    if key in self.missing_embeddings:
                        h = h + self.missing_embeddings[key] * (~present).unsqueeze(-1)
                else:
                    h = present.new_zeros((present.shape[0], self.hidden), dtype=torch.float32)
                streams.append(h)
                flags.append(present)
            hidden[node_type] = torch.stack(streams)
            presence[node_type] = torch.stack(flags)
        return hidden, presence
