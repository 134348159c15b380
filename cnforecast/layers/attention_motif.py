"""The neuron-wise attention term of a Circuit Motif Unit (input-dependent synapses)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

#: Most batch-heads (G * M * heads) CUDA's fused attention kernels accept.
MAX_FUSED_BATCH = 65_535


class AttentionMotif(nn.Module):
    """``a_i = sum_j softmax_j(<W_q h_i, W_k h_j> / sqrt(d)) * (W_v h_j)`` inside each unit.

    Attention runs among the ``N`` neurons of one unit only (never across units or the
    batch), with ``n_heads`` heads of size ``d = D / n_heads``. ``W_q``, ``W_k`` and ``W_v``
    are three slices of the unit's fused projection. On a GPU the attention runs through
    :func:`torch.nn.functional.scaled_dot_product_attention` (one fused kernel) while the
    batch allows it; CUDA's memory-efficient attention refuses more than
    :data:`MAX_FUSED_BATCH` batch-heads, which wide series reach at ordinary batch sizes,
    so larger batches use two small batched matrix products instead: the same arithmetic,
    no batch limit. On the CPU the matrix products always run: with N = 6 neurons and heads
    of 16 they were faster than torch's CPU flash-attention kernel (see
    ``docs/architecture.md``), and the CPU tests cover the path every large batch takes on
    a GPU.
    """

    #: ``D x D`` maps this term takes from the fused projection (query, key, value).
    n_maps = 3

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        # sizes come from a validated CircuitConfig (n_heads divides d_model)
        super().__init__()
        self.n_heads = n_heads
        self.scale = 1.0 / math.sqrt(d_model // n_heads)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, h: torch.Tensor, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor
    ) -> torch.Tensor:
        """``(G, M, N, D)`` states and their query, key and value maps -> attention signals."""
        g, m = query.shape[:2]
        if query.device.type != "cpu" and g * m * self.n_heads <= MAX_FUSED_BATCH:
            return self._fused(query, key, value)
        return self._matmul(query, key, value)

    def _fused(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        g, m, n, d = query.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            # (G, M, N, D) -> (G * M, N, heads, D / heads) -> (G * M, heads, N, D / heads)
            return x.reshape(g * m, n, self.n_heads, d // self.n_heads).transpose(1, 2)

        p = self.dropout.p if self.training else 0.0
        out = F.scaled_dot_product_attention(heads(query), heads(key), heads(value), dropout_p=p)
        # (G * M, heads, N, D / heads) -> (G * M, N, heads, D / heads) -> (G, M, N, D)
        return out.transpose(1, 2).reshape(g, m, n, d)

    def _matmul(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        g, m, n, d = query.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            # (G, M, N, D) -> (G, M, N, heads, D / heads) -> (G, M, heads, N, D / heads)
            return x.view(g, m, n, self.n_heads, d // self.n_heads).transpose(2, 3)

        # (G, M, heads, N, d) @ (G, M, heads, d, N) -> (G, M, heads, N, N)
        scores = torch.matmul(heads(query), heads(key).transpose(-1, -2)) * self.scale
        weights = self.dropout(scores.softmax(dim=-1))
        # (G, M, heads, N, N) @ (G, M, heads, N, d) -> (G, M, heads, N, d) -> (G, M, N, D)
        return torch.matmul(weights, heads(value)).transpose(2, 3).reshape(g, m, n, d)
