"""Features derived for node types without raw ones: the mean over their neighbours.

MAGNN's convention for IMDB (directors and actors get the mean of their movies' features)
and this suite's rule for MovieLens users (the mean over the movies they rated). Only
neighbours that have the modality enter the mean; a node none of whose neighbours has it
is absent (zero row, mask false), so one modality is never filled with another.

    x_v = (1 / |N_m(v)|) * sum_{u in N_m(v)} x_u,   N_m(v) = {u in N(v) : u has modality m}
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import torch
from torch import Tensor


def neighbour_mean(edge_index: Tensor, x_src: Tensor, present_src: Tensor, num_dst: int) -> tuple[Tensor, Tensor]:
    """Mean of ``x_src`` over the present sources of each destination of ``edge_index`` [2, E].

    Returns ``(x_dst [num_dst, d], present_dst [num_dst])``; duplicate edges count once each.
    """
    src, dst = edge_index.cpu().numpy()
    keep = present_src.cpu().numpy()[src]
    src, dst = src[keep], dst[keep]
    count = np.bincount(dst, minlength=num_dst).astype(np.float64)
    present = count > 0
    # A row-normalised sparse [num_dst, num_src] matrix times x: one sparse product instead
    # of scattering every edge's feature row.
    weights = (1.0 / count[dst]).astype(np.float32)
    mean = scipy.sparse.csr_matrix((weights, (dst, src)), shape=(num_dst, x_src.shape[0])) @ x_src.cpu().numpy().astype(np.float32)
    return torch.from_numpy(np.asarray(mean, dtype=np.float32)), torch.from_numpy(present)

