"""A learned cycle per target component, taken out of the input and put back on the forecast.

CycleNet's residual cycle forecasting (Lin et al., NeurIPS 2024), in CircuitNet: a table
``Q`` of ``W`` values per component holds one period of a cycle shared by every window
(learned, starting at zero). The cycle at a window's steps is removed from the normalised
input, the circuit and the linear path forecast what remains, and the cycle at the forecast
steps is added back. Which step of the cycle a window starts at (its *phase*) comes from
its time index (:mod:`cnforecast.cycle_phase`).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CYCLE_GAIN", "PeriodicComponent"]

#: The cycle is stored divided by this gain. Adam's steps do not depend on a weight's scale,
#: so the cycle moves ``CYCLE_GAIN`` times faster than the other weights: CycleNet learns it
#: at a learning rate of 0.01, while the model's recipe (1e-3, halved every epoch) would let
#: a cycle starting at zero move by about 0.5 in normalised units in all, less than the
#: daily cycles of the benchmark sets.
CYCLE_GAIN = 10.0


class PeriodicComponent(nn.Module):
    """A learned cycle of ``cycle_length`` steps for each of ``n_targets`` components.

    Parameters
    ----------
    cycle_length
        ``W``: the steps of one cycle.
    n_targets
        ``C``: target components (each has its own cycle).

    Examples
    --------
    >>> periodic = PeriodicComponent(24, 3)
    >>> tuple(periodic(torch.tensor([0, 5]), start=96, steps=12).shape)
    (2, 12, 3)
    """

    def __init__(self, cycle_length: int, n_targets: int) -> None:
        super().__init__()
        self.cycle_length = cycle_length
        # (W, C), stored divided by CYCLE_GAIN: see values()
        self.cycle = nn.Parameter(torch.zeros(cycle_length, n_targets))

    def values(self) -> torch.Tensor:
        """``(W, C)``: one period of each component's cycle."""
        return self.cycle * CYCLE_GAIN

    def forward(self, phase: torch.Tensor, start: int, steps: int) -> torch.Tensor:
        """The cycle at ``steps`` steps from ``start`` steps after each window's first step.

        Parameters
        ----------
        phase
            ``(B,)`` integer phase of each window's first step, in ``[0, W)``.
        start, steps
            The first step (0: the window's first step) and the number of steps.

        Returns
        -------
        torch.Tensor
            ``(B, steps, C)``.
        """
        offsets = torch.arange(start, start + steps, device=phase.device)
        # (B, 1) + (steps,) -> (B, steps) positions in the cycle -> (B, steps, C)
        return self.values()[(phase[:, None] + offsets) % self.cycle_length]
