"""MAGNN's metapath instance encoders: one vector per instance from the vectors of its nodes."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from datasets.mmhn import EdgeType, Metapath

INSTANCE_ENCODERS = ("mean", "linear", "rotate")


def _relation_key(edge_type: EdgeType) -> str:
    return "__".join(edge_type)


def rotate(h: Tensor, angle: Tensor) -> Tensor:
    """Multiply ``h``, read as ``d/2`` complex numbers (real half, imaginary half), by ``exp(i angle)``."""
    real, imag = h.chunk(2, dim=-1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.cat([real * cos - imag * sin, real * sin + imag * cos], dim=-1)


class MetapathInstanceEncoder(nn.Module):
    r"""Encode an instance :math:`P(v, u) = (t_0 = u, t_1, \dots, t_n = v)` of metapath :math:`P`.

    With :math:`h'_t` the (type-specific, projected) vector of node :math:`t`:

    .. math::
        \texttt{mean:}\quad h_{P(v,u)} = \tfrac{1}{n+1} \textstyle\sum_{i=0}^{n} h'_{t_i}
        \qquad \texttt{linear:}\quad h_{P(v,u)} = W_P \, \tfrac{1}{n+1} \textstyle\sum_{i} h'_{t_i} + b_P

        \texttt{rotate:}\quad o_0 = h'_{t_0}, \quad o_i = h'_{t_i} + o_{i-1} \odot r_i, \quad
        h_{P(v,u)} = \tfrac{o_n}{n+1}

    where for ``rotate`` vectors are complex (:math:`d/2` numbers: first half real, second
    half imaginary) and :math:`r_i = e^{\mathrm{i}\theta_{R_i}}` is the unit-modulus vector of
    the relation :math:`R_i` between :math:`t_{i-1}` and :math:`t_i` (relational rotation,
    after RotatE; one learned phase vector per relation, shared by every metapath using it,
    drawn uniformly in :math:`[-\pi, \pi)`). Unrolled, :math:`o_n = \sum_i h'_{t_i} \odot
    \prod_{j > i} r_j`: the rotation of position :math:`i` is the same for every instance,
    so it is applied once to each node table and instances only gather and add (exact, and
    no ``[instances, positions, d]`` tensor). ``linear`` likewise applies :math:`W_P` to the
    node tables (the mean is linear).
    """

    def __init__(self, kind: str, hidden: int, metapaths: Sequence[Metapath]) -> None:
        super().__init__()
        if kind not in INSTANCE_ENCODERS:
            raise ValueError(f"encoder={kind!r}; valid: {', '.join(INSTANCE_ENCODERS)}")
        if kind == "rotate" and hidden % 2:
            raise ValueError(f"the rotate encoder needs an even hidden width (complex pairs), got hidden={hidden}")
        self.kind = kind
        self.metapaths = tuple(metapaths)
        self.angles = nn.ParameterDict()
        self.linears = nn.ModuleList()
        if kind == "rotate":
            for edge_type in sorted({e for path in self.metapaths for e in path}):
                self.angles[_relation_key(edge_type)] = nn.Parameter(torch.empty(hidden // 2))
        if kind == "linear":
            self.linears.extend(nn.Linear(hidden, hidden) for _ in self.metapaths)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for angle in self.angles.values():
            nn.init.uniform_(angle, -math.pi, math.pi)
        for linear in self.linears:
            linear.reset_parameters()

    def position_tables(self, index: int, tables: dict[str, Tensor]) -> list[Tensor]:
        """Per position ``i`` of metapath ``index``: the node table of its type, rotated (or
        linearly mapped) and divided by ``n + 1``, so that an instance's code is the sum of
        one row per position (the bias of ``linear`` aside)."""
        path = self.metapaths[index]
        types = (path[0][0],) + tuple(e[2] for e in path)
        out = []
        for position, node_type in enumerate(types):
            table = tables[node_type] / len(types)
            if self.kind == "rotate":
                # phase of position i: the sum of the phases of the relations after it
                later = [self.angles[_relation_key(e)] for e in path[position:]]
                table = rotate(table, torch.stack(later).sum(dim=0)) if later else table
            elif self.kind == "linear":
                table = table @ self.linears[index].weight.T
            out.append(table)
        return out

    def bias(self, index: int) -> Tensor | None:
        """The constant added to every code of metapath ``index`` (``linear`` only)."""
        return self.linears[index].bias if self.kind == "linear" else None

    def forward(self, index: int, tables: dict[str, Tensor], nodes: Tensor) -> Tensor:
        """``[I, d]`` codes of the instances ``nodes`` (``[I, n + 1]``) of metapath ``index``."""
        positions = self.position_tables(index, tables)
        code = positions[0][nodes[:, 0]]
        for position in range(1, len(positions)):
            code = code + positions[position][nodes[:, position]]
        bias = self.bias(index)
        return code if bias is None else code + bias
