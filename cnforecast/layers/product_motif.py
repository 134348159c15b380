"""The neuron-pair product term of a Circuit Motif Unit (feedback and lateral gating)."""

from __future__ import annotations

import math

import torch
from torch import nn


class ProductMotif(nn.Module):
    """``p_i = h_i * sum_j B[m, i, j] * (W_p h_j)`` (element-wise product) inside each unit.

    ``B`` holds one learned ``N x N`` matrix per unit; ``W_p`` (a ``D x D`` map shared by
    the units, started small) is one slice of the unit's fused projection. The product lets
    one neuron gate another: the multiplicative interactions of feedback and lateral
    circuit motifs.
    """

    #: ``D x D`` maps this term takes from the fused projection.
    n_maps = 1
    #: Start ``W_p`` small: products of unnormalised states can dominate early training.
    init_std = 0.02

    def __init__(self, n_units: int, n_neurons: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_neurons)
        self.synapses = nn.Parameter(torch.empty(n_units, n_neurons, n_neurons))
        nn.init.uniform_(self.synapses, -bound, bound)

    def forward(self, h: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` states and ``W_p h`` -> ``(G, M, N, D)`` product signals."""
        # (M, N, N) @ (G, M, N, D) -> (G, M, N, D), then gate element-wise by h_i
        return h * torch.matmul(self.synapses, projected)
