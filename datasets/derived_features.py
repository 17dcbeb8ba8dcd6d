"""Features derived for node types without raw ones: the mean over their neighbours.

MAGNN's convention for IMDB (directors and actors get the mean of their movies' features)
and this suite's rule for MovieLens users (the mean over the movies they rated). Only
neighbours that have the modality enter the mean; a node none of whose neighbours has it
is absent (zero row, mask false), so one modality is never filled with another.

    x_v = (1 / |N_m(v)|) * sum_{u in N_m(v)} x_u,   N_m(v) = {u in N(v) : u has modality m}
"""

from __future__ import annotations

import torch
from torch import Tensor


def neighbour_mean(edge_index: Tensor, x_src: Tensor, present_src: Tensor, num_dst: int) -> tuple[Tensor, Tensor]:
    """Mean of ``x_src`` over the present sources of each destination of ``edge_index`` [2, E].

    Returns ``(x_dst [num_dst, d], present_dst [num_dst])``; duplicate edges count once each.
    """
    src, dst = edge_index
    keep = present_src[src]
    src, dst = src[keep], dst[keep]
    total = torch.zeros(num_dst, x_src.shape[1], dtype=x_src.dtype).index_add_(0, dst, x_src[src])
    count = torch.zeros(num_dst, dtype=x_src.dtype).index_add_(0, dst, torch.ones_like(dst, dtype=x_src.dtype))
    present = count > 0
    total[present] /= count[present].unsqueeze(1)
    return total, present

