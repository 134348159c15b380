"""The linear path: a linear map from a component's window straight to its horizon.

Its weights are stored divided by ``gain`` and multiplied back in ``forward``. The map is
the same; only its training changes: Adam's steps do not depend on a weight's scale, so the
stored weights move at the model's learning rate and the map ``gain`` times faster, as if
it had its own learning rate (linear forecasters such as CycleNet's and DLinear's train at
0.005 to 0.01, the circuit at 1e-3). ``gain=1`` is a plain ``nn.Linear``, with the same
state-dict keys and values.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

__all__ = ["LinearPath"]


class LinearPath(nn.Linear):
    """``nn.Linear(in_features, out_features)`` that learns ``gain`` times faster under Adam.

    Examples
    --------
    >>> path = LinearPath(96, 24, gain=10.0)
    >>> tuple(path(torch.zeros(5, 96)).shape)
    (5, 24)
    """

    def __init__(self, in_features: int, out_features: int, gain: float = 1.0) -> None:
        super().__init__(in_features, out_features)
        if not gain > 0:
            raise ValueError(f"gain must be positive, got {gain!r}")
        self.gain = float(gain)
        with torch.no_grad():
            # the same initial map as nn.Linear's: stored / gain, multiplied back in forward
            self.weight.div_(self.gain)
            self.bias.div_(self.gain)

    @torch.no_grad()
    def set_map(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Set the map itself: ``weight`` ``(out_features, in_features)``, ``bias``
        ``(out_features,)`` (stored divided by ``gain``)."""
        if tuple(weight.shape) != tuple(self.weight.shape) or tuple(bias.shape) != tuple(
            self.bias.shape
        ):
            raise ValueError(
                f"a map of shapes {tuple(self.weight.shape)} and {tuple(self.bias.shape)} is "
                f"needed, got {tuple(weight.shape)} and {tuple(bias.shape)}"
            )
        self.weight.copy_(weight.to(self.weight) / self.gain)
        self.bias.copy_(bias.to(self.bias) / self.gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features)`` -> ``(..., out_features)``."""
        return functional.linear(x, self.weight, self.bias) * self.gain
