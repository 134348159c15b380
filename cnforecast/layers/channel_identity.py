"""A learned identity vector per target component, added to its patch embeddings.

Channel independence shares every weight across the target components, so the circuit
cannot tell one component from another. With ``channel_identity=True`` each component ``c``
gets a learned ``D``-vector ``e_c`` (starting near zero) added to all its patch embeddings,
so the shared circuit can condition on which series it reads (as the channel identity
embeddings of STID and TQNet's per-variable queries do). It adds ``C x D`` weights.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ChannelIdentity"]


class ChannelIdentity(nn.Module):
    """A learned ``d_model``-vector for each of ``n_targets`` components.

    Examples
    --------
    >>> identity = ChannelIdentity(n_targets=3, d_model=8)
    >>> tuple(identity(torch.zeros(2, 3, 11, 8)).shape)
    (2, 3, 11, 8)
    """

    def __init__(self, n_targets: int, d_model: int) -> None:
        super().__init__()
        # (C, D): small, as the patch position embeddings
        self.embedding = nn.Parameter(torch.randn(n_targets, d_model) * 0.02)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """``(B, C, Np, D)`` patch embeddings -> the same plus each component's vector."""
        if patches.shape[1] != self.embedding.shape[0]:
            raise ValueError(
                f"the network was built for {self.embedding.shape[0]} target component(s), "
                f"got {patches.shape[1]}"
            )
        # (C, D) -> (1, C, 1, D), broadcast over windows and patches
        return patches + self.embedding[None, :, None, :]
