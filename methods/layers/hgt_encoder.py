"""The HGT stack shared by early- and late-fusion HGT: fused input, then ``HGTConv`` layers."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from datasets.mmhn import MMHN
from methods.layers.early_fusion_input import EarlyFusionInput
from methods.layers.hgt_conv import BatchedRelationHGTConv


class HGTEncoder(nn.Module):
    r"""Node embeddings from an early-fused input and ``layers`` PyG ``HGTConv`` layers.

    .. math::
        h^{(0)}_v = \mathrm{Dropout}\big(\mathrm{EarlyFusionInput}(x_v)\big), \qquad
        h^{(k)} = \mathrm{Dropout}\big(\mathrm{HGTConv}_k(h^{(k-1)})\big), \quad k = 1..K

    ``modalities`` restricts the input to a subset (a late-fusion branch sees one modality;
    early fusion sees all); ``missing_flags`` gives absent modalities a learned input block.
    Returns :math:`h^{(K)}` for every node type. The layers are PyG's ``HGTConv`` with
    its relation transforms batched (:class:`~methods.layers.hgt_conv.BatchedRelationHGTConv`:
    the same parameters and results, without PyG's per-type zero fills in backward).
    """

    def __init__(
        self, mmhn: MMHN, hidden: int, heads: int, layers: int, dropout: float, modalities: Sequence[str] | None = None,
        missing_flags: bool = False,
    ) -> None:
        super().__init__()
        self.input = EarlyFusionInput(mmhn, hidden, modalities, missing_flags=missing_flags)
        metadata = (mmhn.node_types, mmhn.edge_types)
        self.convs = nn.ModuleList(BatchedRelationHGTConv(hidden, hidden, metadata, heads=heads) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        self.input.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, mmhn: MMHN) -> dict[str, Tensor]:
        x = {t: self.dropout(h) for t, h in self.input(mmhn).items()}
        for conv in self.convs:
            x = {t: self.dropout(h) for t, h in conv(x, mmhn.edge_index_dict).items()}
        return x
