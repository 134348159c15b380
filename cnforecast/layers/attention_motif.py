"""The neuron-wise attention term of a Circuit Motif Unit (input-dependent synapses)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class AttentionMotif(nn.Module):
    """``a_i = sum_j softmax_j(<W_q h_i, W_k h_j> / sqrt(d)) * (W_v h_j)`` inside each unit.

    Attention runs among the ``N`` neurons of one unit only (never across units or the
    batch), with ``n_heads`` heads of size ``d = D / n_heads``, through
    :func:`torch.nn.functional.scaled_dot_product_attention` on
    ``(G * M, heads, N, D / heads)`` so that fused kernels apply on a GPU.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads} for the attention "
                "motif; change one of them."
            )
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` neuron states -> ``(G, M, N, D)`` attention signals."""
        g, m, n, d = h.shape
        # (G, M, N, D) -> (G, M, N, 3 * D) -> (G * M, N, 3, heads, D / heads)
        qkv = self.qkv(h).view(g * m, n, 3, self.n_heads, d // self.n_heads)
        # -> 3 x (G * M, heads, N, D / heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0
        )
        # (G * M, heads, N, D / heads) -> (G, M, N, D)
        return out.transpose(1, 2).reshape(g, m, n, d)
