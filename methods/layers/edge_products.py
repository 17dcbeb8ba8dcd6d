"""Attention's two per-edge products as fused sparse kernels (SDDMM and SpMM).

Attention over an edge list needs, for a batch of ``B`` independent channels (modalities x
heads, ...), a score per edge ``out[b, e] = row[b, dst_e] · col[b, src_e]`` and a weighted
sum of messages per target ``out[b, t] = sum_{e: dst_e = t} w[b, e] col[b, src_e]``. With
plain indexing both gather a ``[B, E, D]`` tensor, which costs time and, because autograd
keeps it for backward, memory; graph transformers spend most of their time and memory
there. Here both are one call each to PyTorch's sparse CSR kernels
(``torch.sparse.sampled_addmm``: sampled dense-dense product; ``csr @ dense``: sparse-dense
product), over a block-diagonal matrix with one ``[N_dst, N_src]`` block per channel, so
nothing per edge wider than a scalar is ever materialised or saved. Backward uses the same
two kernels (the gradient of one is the other, on the pattern or its transpose).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


@dataclass(frozen=True)
class _BlockCSR:
    crow: Tensor
    col: Tensor
    shape: tuple[int, int]

    def matrix(self, values: Tensor) -> Tensor:
        with warnings.catch_warnings():  # "CSR support is in beta": a notice, not a problem
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(self.crow, self.col, values.reshape(-1), size=self.shape, check_invariants=False)


@dataclass(frozen=True)
class EdgePattern:
    """Edges ``src_e -> dst_e`` sorted by ``(dst, src)`` (CSR order), with block-diagonal
    index arrays for ``B`` channels built once per ``B`` and kept."""

    dst: Tensor
    src: Tensor
    num_dst: int
    num_src: int
    transpose_order: Tensor = field(repr=False)
    _blocks: dict[int, tuple[_BlockCSR, _BlockCSR]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_sorted(cls, dst: Tensor, src: Tensor, num_dst: int, num_src: int) -> EdgePattern:
        key = dst * num_src + src
        if key.numel() > 1 and bool((key[1:] < key[:-1]).any()):
            raise ValueError("edges must be sorted by (dst, src)")
        return cls(dst, src, num_dst, num_src, torch.argsort(src * num_dst + dst, stable=True))

    @property
    def num_edges(self) -> int:
        return int(self.dst.numel())

    def blocks(self, channels: int) -> tuple[_BlockCSR, _BlockCSR]:
        """The pattern and its transpose, block-diagonal over ``channels``."""
        if channels not in self._blocks:
            forward = _block_csr(self.dst, self.src, self.num_dst, self.num_src, channels)
            order = self.transpose_order
            backward = _block_csr(self.src[order], self.dst[order], self.num_src, self.num_dst, channels)
            self._blocks[channels] = (forward, backward)
        return self._blocks[channels]


def _block_csr(rows: Tensor, cols: Tensor, num_rows: int, num_cols: int, channels: int) -> _BlockCSR:
    counts = torch.bincount(rows, minlength=num_rows)
    crow = torch.zeros(channels * num_rows + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.cumsum(counts.repeat(channels), dim=0)
    offsets = torch.arange(channels, device=rows.device).unsqueeze(1) * num_cols
    return _BlockCSR(crow, (cols.unsqueeze(0) + offsets).reshape(-1), (channels * num_rows, channels * num_cols))


def edge_scores(pattern: EdgePattern, rows: Tensor, cols: Tensor) -> Tensor:
    """``out[b, e] = rows[b, dst_e] · cols[b, src_e]``; ``rows`` ``[B, N_dst, D]``,
    ``cols`` ``[B, N_src, D]``, returns ``[B, E]`` (edges in pattern order)."""
    return _EdgeScores.apply(pattern, rows, cols)


def edge_messages(pattern: EdgePattern, weights: Tensor, cols: Tensor) -> Tensor:
    """``out[b, t] = sum_{e: dst_e = t} weights[b, e] * cols[b, src_e]``; ``weights``
    ``[B, E]``, ``cols`` ``[B, N_src, D]``, returns ``[B, N_dst, D]``."""
    return _EdgeMessages.apply(pattern, weights, cols)


def _sddmm(block: _BlockCSR, rows: Tensor, cols: Tensor) -> Tensor:
    """``[B, E]`` scores of ``rows [B, n_rows, D]`` against ``cols [B, n_cols, D]`` on ``block``."""
    B, _, D = rows.shape
    template = block.matrix(rows.new_zeros(block.col.numel()))
    out = torch.sparse.sampled_addmm(template, rows.reshape(-1, D), cols.reshape(-1, D).t(), beta=0.0)
    return out.values().view(B, -1)


def _spmm(block: _BlockCSR, weights: Tensor, cols: Tensor) -> Tensor:
    """``[B, n_rows, D]``: ``block`` with ``weights [B, E]`` times ``cols [B, n_cols, D]``."""
    B, _, D = cols.shape
    return (block.matrix(weights) @ cols.reshape(-1, D)).view(B, -1, D)


class _EdgeScores(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, pattern: EdgePattern, rows: Tensor, cols: Tensor) -> Tensor:
        rows, cols = rows.contiguous(), cols.contiguous()
        ctx.save_for_backward(rows, cols)
        ctx.pattern = pattern  # type: ignore[attr-defined]
        return _sddmm(pattern.blocks(rows.shape[0])[0], rows, cols)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        rows, cols = ctx.saved_tensors
        pattern: EdgePattern = ctx.pattern
        forward, backward = pattern.blocks(rows.shape[0])
        grad = grad.contiguous()
        grad_rows = _spmm(forward, grad, cols) if ctx.needs_input_grad[1] else None
        grad_cols = _spmm(backward, grad[:, pattern.transpose_order], rows) if ctx.needs_input_grad[2] else None
        return None, grad_rows, grad_cols


class _EdgeMessages(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, pattern: EdgePattern, weights: Tensor, cols: Tensor) -> Tensor:
        weights, cols = weights.contiguous(), cols.contiguous()
        ctx.save_for_backward(weights, cols)
        ctx.pattern = pattern  # type: ignore[attr-defined]
        return _spmm(pattern.blocks(weights.shape[0])[0], weights, cols)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        weights, cols = ctx.saved_tensors
        pattern: EdgePattern = ctx.pattern
        forward, backward = pattern.blocks(weights.shape[0])
        grad = grad.contiguous()
        grad_weights = _sddmm(forward, grad, cols) if ctx.needs_input_grad[1] else None
        grad_cols = _spmm(backward, weights[:, pattern.transpose_order], grad) if ctx.needs_input_grad[2] else None
        return None, grad_weights, grad_cols
