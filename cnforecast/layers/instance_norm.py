"""Reversible instance normalisation (Kim et al., ICLR 2022) without stored state.

The arithmetic and the parameter names (``affine_weight``, ``affine_bias``) are those of
darts' ``RINorm``, which the darts wrapper uses through ``use_reversible_instance_norm``, so
that a trained model's ``rin.*`` weights load here unchanged and give the same forecasts
(``tests/test_inference.py`` compares the two). Unlike darts' module, the window statistics
are returned to the caller instead of being kept on the module.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ReversibleInstanceNorm"]


class ReversibleInstanceNorm(nn.Module):
    """Normalise each window by its own mean and standard deviation, and undo it afterwards.

    Shapes: ``x`` ``(B, L, C)`` -> normalised ``(B, L, C)`` and statistics ``(B, 1, C)``
    each; ``inverse`` takes ``(B, H, C, R)``.

    Examples
    --------
    >>> norm = ReversibleInstanceNorm(2)
    >>> x = torch.randn(4, 10, 2)
    >>> y, stats = norm(x)
    >>> torch.allclose(norm.inverse(y.unsqueeze(-1), stats).squeeze(-1), x, atol=1e-5)
    True
    """

    def __init__(self, input_dim: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.eps = eps
        self.affine = affine
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(input_dim))
            self.affine_bias = nn.Parameter(torch.zeros(input_dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        mean = x.mean(dim=1, keepdim=True).detach()
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps).detach()
        y = (x - mean) / std
        if self.affine:
            y = y * self.affine_weight + self.affine_bias
        return y, (mean, std)

    def inverse(self, y: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        mean, std = stats
        if self.affine:
            y = y - self.affine_bias.unsqueeze(-1)
            y = y / (self.affine_weight.unsqueeze(-1) + self.eps * self.eps)
        return y * std.unsqueeze(-1) + mean.unsqueeze(-1)
