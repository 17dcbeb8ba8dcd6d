"""Softmax over variable-size groups of rows (e.g. the incoming edges of each node)."""

from __future__ import annotations

import torch
from torch import Tensor


def segment_softmax(scores: Tensor, index: Tensor, num_segments: int, mask: Tensor | None = None) -> Tensor:
    """``out[i] = exp(scores[i]) / sum_{j: index[j] = index[i]} exp(scores[j])``.

    ``scores`` is ``[E, ...]`` (trailing dims, e.g. heads, are independent softmaxes) and
    ``index`` ``[E]`` assigns each row to a segment. Rows with ``mask`` false (same shape as
    ``scores`` or broadcastable to it) get weight 0 and do not count in their segment; a
    segment with no unmasked row gets all-zero weights rather than NaN. Vectorised: one
    scatter-max, one scatter-add.
    """
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    shape = (num_segments,) + tuple(scores.shape[1:])
    expanded = index.view(-1, *([1] * (scores.dim() - 1))).expand_as(scores)
    seg_max = torch.full(shape, float("-inf"), dtype=scores.dtype, device=scores.device)
    seg_max = seg_max.scatter_reduce(0, expanded, scores, reduce="amax", include_self=True)
    # An all-masked segment has max -inf; shifting by 0 keeps exp(-inf) = 0 and avoids NaN.
    seg_max = torch.where(torch.isfinite(seg_max), seg_max, torch.zeros_like(seg_max))
    weights = (scores - seg_max.gather(0, expanded)).exp()
    denom = torch.zeros(shape, dtype=scores.dtype, device=scores.device).scatter_add(0, expanded, weights)
    return weights / denom.gather(0, expanded).clamp_min(torch.finfo(scores.dtype).tiny)
