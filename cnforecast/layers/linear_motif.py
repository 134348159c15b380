"""The linear transmission term of a Circuit Motif Unit (feed-forward and mutual motifs)."""

from __future__ import annotations

import math

import torch
from torch import nn


class LinearMotif(nn.Module):
    """``l_i = sum_j A[m, i, j] * (W_l h_j)`` for every neuron ``i`` of every unit ``m``.

    ``A`` holds one learned ``N x N`` synapse matrix per unit; ``W_l`` is a ``D x D`` map
    shared by the units.
    """

    def __init__(self, n_units: int, n_neurons: int, d_model: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_neurons)
        self.synapses = nn.Parameter(torch.empty(n_units, n_neurons, n_neurons))
        nn.init.uniform_(self.synapses, -bound, bound)
        self.proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` neuron states -> ``(G, M, N, D)`` linear signals."""
        # (M, N, N) @ (G, M, N, D) -> (G, M, N, D): every unit in one batched product
        return torch.matmul(self.synapses, self.proj(h))
