"""Cutting a lookback window into patches and embedding each patch into a D-vector."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def patch_count(lookback: int, patch_len: int, stride: int) -> int:
    """Number of patches that cover a window of ``lookback`` steps.

    The end of the window is padded (by repeating the last value) so that the last patch is
    complete and no step is left out.

    Examples
    --------
    >>> patch_count(96, 16, 8)
    11
    >>> patch_count(10, 16, 8)
    1
    >>> patch_count(25, 4, 3)
    8
    """
    if lookback <= patch_len:
        return 1
    return math.ceil((lookback - patch_len) / stride) + 1


class PatchEmbedding(nn.Module):
    """Patches of a multi-feature window, each mapped linearly to a D-vector.

    Parameters
    ----------
    lookback
        Window length L.
    patch_len, stride
        Patch length and step between patch starts.
    in_features
        Features per time step F (1 for one target component).
    d_model
        Output size D.
    positional
        Whether to add a learned position embedding per patch.
    """

    def __init__(
        self,
        lookback: int,
        patch_len: int,
        stride: int,
        in_features: int,
        d_model: int,
        positional: bool = True,
    ) -> None:
        super().__init__()
        self.patch_len = patch_len
        self.stride = stride
        self.n_patches = patch_count(lookback, patch_len, stride)
        self.pad = (self.n_patches - 1) * stride + patch_len - lookback
        # (Np, patch_len): the steps of each patch. Patches are gathered by index rather than
        # with ``Tensor.unfold``: the same values, and exportable to ONNX with a dynamic batch.
        starts = torch.arange(self.n_patches)[:, None] * stride
        self.register_buffer("steps", starts + torch.arange(patch_len)[None, :], persistent=False)
        self.proj = nn.Linear(patch_len * in_features, d_model)
        self.position = (
            nn.Parameter(torch.randn(self.n_patches, d_model) * 0.02) if positional else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed the patches of ``x``.

        Parameters
        ----------
        x
            ``(G, L, F)`` windows.

        Returns
        -------
        torch.Tensor
            ``(G, Np, D)`` patch embeddings.
        """
        g = x.shape[0]
        # (G, L, F) -> (G, F, L)
        x = x.transpose(1, 2)
        if self.pad:
            # (G, F, L) -> (G, F, L + pad), repeating the last step
            x = F.pad(x, (0, self.pad), mode="replicate")
        # (G, F, L + pad) -> (G, F, Np, patch_len)
        x = x[..., self.steps]
        # (G, F, Np, patch_len) -> (G, Np, F * patch_len)
        x = x.permute(0, 2, 1, 3).reshape(g, self.n_patches, -1)
        # (G, Np, F * patch_len) -> (G, Np, D)
        x = self.proj(x)
        if self.position is not None:
            x = x + self.position
        return x
