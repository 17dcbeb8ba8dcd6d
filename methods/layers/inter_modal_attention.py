"""HGNN-IMA's layer: HGT with one stream per modality and a nested inter-modal attention."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from datasets.mmhn import EdgeType
from methods.layers.edge_products import edge_messages, edge_scores
from methods.layers.flat_hetero_graph import FlatHeteroGraph
from methods.layers.segment_softmax import segment_softmax

COMBINES = ("softmax_product", "renorm_product", "sum")


@dataclass
class InterModalAttentionTrace:
    """What one layer computed, per edge (in :class:`FlatHeteroGraph` edge order).

    ``E`` edges, ``M`` modalities, ``H`` heads. Fields a variant does not compute are None:
    ``late`` (no shared attention) has no ``lam``, ``beta1``, ``beta2``; without alignment
    there is no ``beta2``. With inter-modal attention off, ``lam`` is the uniform ``1/M``.
    """

    scores: Tensor  # g^m_{st}        [E, M, H]
    alpha: Tensor  # α^m_{st}         [E, M, H]
    modal_scores: Tensor | None  # s^m_{st}  [E, M, H]
    lam: Tensor | None  # λ^m_{st}    [E, M, H]
    beta1: Tensor | None  # β1_{st}   [E, H]
    beta2: Tensor | None  # β2_{st}   [E, H]
    beta: Tensor  # β_{st} [E, H] (shared) or α^m_{st} [E, M, H] (late)
    messages: dict[str, Tensor]  # m̃^m_t per node type  [M, N_t, d], before A-Lin


class InterModalHGTConv(nn.Module):
    r"""One HGNN-IMA layer (Li et al., IJCAI 2025), as specified in ``docs/hgnn_ima.md``.

    Every modality ``m`` has its own stream :math:`h^m` but shares the type-specific
    :math:`l_K^\tau, l_Q^\tau, l_V^\tau`, the relation matrices :math:`W_{NODE}^r,
    W_{MSG}^r`, the prior :math:`\mu_r`, A-Lin, skip and LayerNorm. Per edge
    :math:`s \to t` of relation :math:`r`, head and modality:

    .. math::
        g^m_{st} = \big(l_K(h^m_s)\, W_{NODE}^r\, l_Q(h^m_t)^\top\big)\, \mu_r \cdot c,
        \qquad \alpha^m_{st} = \mathrm{softmax}_{s \in N_r(t)}\, g^m_{st}

        s^m_{st} = l_K(h^m_s)\, W_{MODAL}^{m,r}\, l_Q(h^m_t)^\top, \qquad
        \lambda^m_{st} = \mathrm{softmax}_{m}\, s^m_{st}

        \beta1_{st} = \textstyle\sum_m \lambda^m_{st} \alpha^m_{st}, \qquad
        a_{st} = -\mathrm{mean}_{m < m'} |g^m_{st} - g^{m'}_{st}|, \qquad
        \beta2_{st} = \mathrm{softmax}_{s \in N_r(t)}\, a_{st}

        \beta_{st} = \begin{cases}
            \mathrm{softmax}_{s \in N_r(t)}(\beta1_{st}\beta2_{st}) & \texttt{softmax\_product} \\
            \beta1_{st}\beta2_{st} / \sum_{s' \in N_r(t)} \beta1_{s't}\beta2_{s't} & \texttt{renorm\_product} \\
            \beta1_{st} + \beta2_{st} & \texttt{sum}
        \end{cases}

        \tilde m^m_t = \mathrm{mean}_{r \to \tau(t)} \textstyle\sum_{s \in N_r(t)}
            \beta_{st}\, l_V(h^m_s)\, W_{MSG}^r \quad \text{(heads concatenated)}

        h'^m_t = \mathrm{Dropout}\big(\mathrm{LN}_\tau(\sigma(k_\tau)\,\mathrm{ALin}_\tau(\tilde m^m_t)
            + (1 - \sigma(k_\tau))\, h^m_t)\big)

    :math:`c` is ``score_scale`` (default :math:`1/\sqrt{d_k}`, HGT's). Softmaxes over
    neighbours run within one relation (segments = (relation, target)); the relations into
    a type are then averaged, counting every relation that ends at the type (DGL's HGT
    example, which the authors' code builds on). ``sum`` is the code's ``β1 + β2`` as is
    (weights sum to 2 per (relation, target)).

    Switches for the ablations: ``inter_modal=False`` makes :math:`\lambda^m = 1/|M|`
    (no :math:`W_{MODAL}`); ``alignment=False`` gives :math:`\beta = \beta1`;
    ``shared_attention=False`` (late) weights modality ``m``'s messages by its own
    :math:`\alpha^m` (no :math:`\lambda`, no :math:`\beta`).

    Vectorised: the ``M`` streams are stacked on a leading axis and go through every op at
    once; all relations share one edge list with a relation id and one segment softmax. Per
    relation, the keys and values of its source nodes are multiplied by the relation's
    matrices once per node (a short loop over relations building the relation-source
    table); per-edge scores and message sums are then fused sparse kernels
    (:func:`edge_scores`, :func:`edge_messages`) that keep no per-edge vectors. ``forward`` takes ``h`` ``[M, N, d]`` over the
    flat node index and returns the new ``h`` and an :class:`InterModalAttentionTrace`.
    """

    def __init__(
        self,
        hidden: int,
        heads: int,
        node_types: tuple[str, ...],
        relations: tuple[EdgeType, ...],
        num_modalities: int,
        dropout: float = 0.2,
        combine: str = "softmax_product",
        score_scale: float | None = None,
        inter_modal: bool = True,
        alignment: bool = True,
        shared_attention: bool = True,
    ) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden={hidden} must be divisible by heads={heads}")
        if combine not in COMBINES:
            raise ValueError(f"combine={combine!r}; valid: {', '.join(COMBINES)}")
        self.hidden, self.heads, self.head_dim = hidden, heads, hidden // heads
        self.node_types, self.relations = tuple(node_types), tuple(relations)
        self.num_modalities = num_modalities
        self.combine = combine
        self.score_scale = score_scale if score_scale is not None else 1.0 / math.sqrt(self.head_dim)
        self.inter_modal = inter_modal and shared_attention
        self.alignment = alignment and shared_attention
        self.shared_attention = shared_attention
        num_relations, d_k = len(self.relations), self.head_dim
        self.kqv = nn.ModuleDict({t: nn.Linear(hidden, 3 * hidden) for t in self.node_types})
        self.out = nn.ModuleDict({t: nn.Linear(hidden, hidden) for t in self.node_types})
        self.norm = nn.ModuleDict({t: nn.LayerNorm(hidden) for t in self.node_types})
        self.skip = nn.Parameter(torch.empty(len(self.node_types)))
        self.mu = nn.Parameter(torch.empty(num_relations, heads))
        self.w_node = nn.Parameter(torch.empty(num_relations, heads, d_k, d_k))
        self.w_msg = nn.Parameter(torch.empty(num_relations, heads, d_k, d_k))
        self.w_modal = nn.Parameter(torch.empty(num_modalities, num_relations, heads, d_k, d_k)) if self.inter_modal else None
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (*self.kqv.values(), *self.out.values(), *self.norm.values()):
            module.reset_parameters()
        # DGL's HGT example: skip and prior start at 1; Xavier-uniform on each [R, H, d_k, d_k]
        # tensor as a whole (so fan-in H d_k^2, fan-out R d_k^2: small initial scores), once
        # per modality for W_MODAL.
        nn.init.ones_(self.skip)
        nn.init.ones_(self.mu)
        nn.init.xavier_uniform_(self.w_node)
        nn.init.xavier_uniform_(self.w_msg)
        if self.w_modal is not None:
            for w_modal_m in self.w_modal:
                nn.init.xavier_uniform_(w_modal_m)

    def forward(self, h: Tensor, graph: FlatHeteroGraph) -> tuple[Tensor, InterModalAttentionTrace]:
        if graph.relations != self.relations or graph.node_types != self.node_types:
            raise ValueError("the graph's node and edge types differ (in name or order) from those the layer was built for")
        M, N, d = h.shape
        H, d_k = self.heads, self.head_dim
        # split (not slices): its backward is one concatenation, not a zero-filled copy per type
        h_by_type = dict(zip(graph.node_types, h.split(graph.node_counts, dim=1)))
        kqv = {t: self.kqv[t](h_t).view(M, -1, 3, H, d_k) for t, h_t in h_by_type.items()}
        q = torch.cat([kqv[t][:, :, 1] for t in graph.node_types], dim=1)  # [M, N, H, d_k]

        key_table, value_table = self._relation_source_tables(kqv)  # [M, H, K, T, d_k], [M, H, T, d_k]
        K, T, E = key_table.shape[2], key_table.shape[3], graph.pattern.num_edges
        # k W_NODE q (g before μ and scale) and, with K = 2, k W_MODAL q (s): one fused kernel
        queries = q.permute(0, 2, 1, 3).unsqueeze(2).expand(M, H, K, N, d_k).reshape(M * H * K, N, d_k)
        both = edge_scores(graph.pattern, queries, key_table.reshape(M * H * K, T, d_k)).view(M, H, K, E)
        scores = both[:, :, 0].permute(2, 0, 1) * (self.mu[graph.rel] * self.score_scale).unsqueeze(1)  # g [E, M, H]
        alpha = segment_softmax(scores, graph.segment, graph.num_segments)

        modal_scores = lam = beta1 = beta2 = None
        if self.shared_attention:
            if self.inter_modal:
                modal_scores = both[:, :, 1].permute(2, 0, 1)
                lam = torch.softmax(modal_scores, dim=1)
            else:
                lam = alpha.new_full(alpha.shape, 1.0 / M)
            beta1 = (lam * alpha).sum(dim=1)  # [E, H]
            if self.alignment:
                beta2 = segment_softmax(self._agreement(scores), graph.segment, graph.num_segments)
                beta = self._combine(beta1, beta2, graph)
            else:
                beta = beta1
            # the same β weighs every modality's messages: one channel per head, modalities side by side
            values = value_table.permute(1, 2, 0, 3).reshape(H, T, M * d_k)
            sums = edge_messages(graph.pattern, beta.T, values).view(H, N, M, d_k).permute(2, 1, 0, 3)
        else:
            beta = alpha  # late: modality m keeps its own α^m, one channel per (modality, head)
            weights = alpha.permute(1, 2, 0).reshape(M * H, E)
            sums = edge_messages(graph.pattern, weights, value_table.reshape(M * H, T, d_k)).view(M, H, N, d_k).transpose(1, 2)
        messages = sums.reshape(M, N, d)  # sums over neighbours, heads concatenated

        gates = torch.sigmoid(self.skip)
        mean_messages, updated = {}, []
        for i, (t, sum_t) in enumerate(zip(graph.node_types, messages.split(graph.node_counts, dim=1))):
            mean_messages[t] = sum_t / graph.relations_into[t]  # mean over the relations into t
            mixed = gates[i] * self.out[t](mean_messages[t]) + (1 - gates[i]) * h_by_type[t]
            updated.append(self.norm[t](mixed))
        h_new = self.dropout(torch.cat(updated, dim=1))
        return h_new, InterModalAttentionTrace(scores, alpha, modal_scores, lam, beta1, beta2, beta, mean_messages)

    def _relation_source_tables(self, kqv: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Per relation, its source nodes' keys ``k W_NODE^r`` (stacked with ``k W_MODAL^{m,r}``
        on axis 2 when λ is learned) and values ``v W_MSG^r``, concatenated over relations
        (axis T): ``[M, H, 1 or 2, T, d_k]`` and ``[M, H, T, d_k]``."""
        keys, values = [], []
        for r, (src_type, _, _) in enumerate(self.relations):
            k_src, v_src = kqv[src_type][:, :, 0], kqv[src_type][:, :, 2]  # [M, N_src, H, d_k]
            M = k_src.shape[0]
            if self.w_modal is not None:
                # one einsum for both: W_NODE^r is shared by the modalities, W_MODAL^{m,r} is not
                weight = torch.stack([self.w_node[r].expand(M, -1, -1, -1), self.w_modal[:, r]], dim=2)  # [M, H, 2, d_k, d_k]
                keys.append(torch.einsum("mnhd,mhkde->mhkne", k_src, weight))
            else:
                keys.append(torch.einsum("mnhd,hde->mhne", k_src, self.w_node[r]).unsqueeze(2))
            values.append(torch.einsum("mnhd,hde->mhne", v_src, self.w_msg[r]))
        return torch.cat(keys, dim=3), torch.cat(values, dim=2)

    def _agreement(self, scores: Tensor) -> Tensor:
        """``a = -mean over modality pairs |g^m - g^m'|`` per edge and head; 0 for one modality."""
        M = scores.shape[1]
        if M < 2:
            return scores.new_zeros(scores.shape[0], scores.shape[2])
        first, second = torch.triu_indices(M, M, offset=1, device=scores.device)
        return -(scores[:, first] - scores[:, second]).abs().mean(dim=1)

    def _combine(self, beta1: Tensor, beta2: Tensor, graph: FlatHeteroGraph) -> Tensor:
        if self.combine == "sum":
            return beta1 + beta2
        product = beta1 * beta2
        if self.combine == "softmax_product":
            return segment_softmax(product, graph.segment, graph.num_segments)
        total = product.new_zeros(graph.num_segments, product.shape[1]).index_add(0, graph.segment, product)
        return product / total[graph.segment].clamp_min(torch.finfo(product.dtype).tiny)
