"""Assigning patches, in time order, to the input ports of the units."""

from __future__ import annotations

import torch
from torch import nn


def assignment_matrix(n_patches: int, n_slots: int) -> torch.Tensor:
    """Overlap weights that spread ``n_patches`` consecutive patches over ``n_slots`` ports.

    Port ``q`` covers the stretch ``[q, q + 1) * n_patches / n_slots`` of the patch axis and
    receives the overlap-weighted mean of the patches it covers: consecutive patches land in
    the same port (and so the same unit) whatever the two counts are.

    Returns
    -------
    torch.Tensor
        ``(n_slots, n_patches)``, rows summing to 1.

    Examples
    --------
    >>> assignment_matrix(4, 2)
    tensor([[0.5000, 0.5000, 0.0000, 0.0000],
            [0.0000, 0.0000, 0.5000, 0.5000]])
    """
    edges = torch.arange(n_slots + 1, dtype=torch.float64) * n_patches / n_slots
    starts, ends = edges[:-1, None], edges[1:, None]
    patch = torch.arange(n_patches, dtype=torch.float64)[None, :]
    overlap = (torch.minimum(ends, patch + 1) - torch.maximum(starts, patch)).clamp(min=0)
    return (overlap / overlap.sum(dim=1, keepdim=True)).float()


class PortAssignment(nn.Module):
    """Maps patch embeddings onto the ``P`` input ports of each of ``M`` units.

    Unit 0 receives the earliest stretch of the window, unit ``M - 1`` the latest.
    """

    def __init__(self, n_patches: int, n_units: int, n_ports: int) -> None:
        super().__init__()
        self.n_units = n_units
        self.n_ports = n_ports
        self.register_buffer(
            "weights", assignment_matrix(n_patches, n_units * n_ports), persistent=False
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """``(G, Np, D)`` patch embeddings -> ``(G, M, P, D)`` input-port signals."""
        g, _, d = patches.shape
        # (M * P, Np) @ (G, Np, D) -> (G, M * P, D)
        ports = torch.matmul(self.weights, patches)
        # (G, M * P, D) -> (G, M, P, D)
        return ports.view(g, self.n_units, self.n_ports, d)
