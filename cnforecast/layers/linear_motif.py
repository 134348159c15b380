"""The linear transmission term of a Circuit Motif Unit (feed-forward and mutual motifs)."""

from __future__ import annotations

import math

import torch
from torch import nn


class LinearMotif(nn.Module):
    """``l_i = sum_j A[m, i, j] * (W_l h_j)`` for every neuron ``i`` of every unit ``m``.

    ``A`` holds one learned ``N x N`` synapse matrix per unit. ``W_l`` (a ``D x D`` map
    shared by the units) is one slice of the unit's fused projection
    (:class:`~cnforecast.layers.motif_unit.CircuitMotifUnits`), which hands ``W_l h`` in.
    """

    #: ``D x D`` maps this term takes from the fused projection.
    n_maps = 1

    def __init__(self, n_units: int, n_neurons: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_neurons)
        self.synapses = nn.Parameter(torch.empty(n_units, n_neurons, n_neurons))
        nn.init.uniform_(self.synapses, -bound, bound)

    def forward(self, h: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` states and ``W_l h`` -> ``(G, M, N, D)`` linear signals."""
        # (M, N, N) @ (G, M, N, D) -> (G, M, N, D): every unit in one batched product
        return torch.matmul(self.synapses, projected)
