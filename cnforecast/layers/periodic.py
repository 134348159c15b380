"""A learned cycle per target component, taken out of the input and put back on the forecast.

CycleNet's residual cycle forecasting (Lin et al., NeurIPS 2024), in CircuitNet: a table
``Q`` of ``W`` values per component holds one period of a cycle shared by every window
(learned, starting at zero or at the training data's mean per phase: see
:mod:`cnforecast.models.cycle_start`). The cycle at a window's steps is removed from the
normalised input, the circuit and the linear path forecast what remains, and the cycle at
the forecast steps is added back. Which step of the cycle a window starts at (its *phase*)
comes from its time index (:mod:`cnforecast.cycle_phase`).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CYCLE_GAIN", "PeriodicComponent", "phase_sums"]

#: The gain of a cycle that starts at zero (``cycle_init="zero"``; one that starts at the
#: data's means learns at the model's rate). The cycle is stored divided by its gain.
#: Adam's steps do not depend on a weight's scale, so the cycle moves ``CYCLE_GAIN`` times
#: faster than the other weights: CycleNet learns it at a learning rate of 0.01, while the
#: model's recipe (1e-3, halved every epoch) would let a cycle starting at zero move by
#: about 0.5 in normalised units in all, less than the daily cycles of the benchmark sets.
CYCLE_GAIN = 10.0


class PeriodicComponent(nn.Module):
    """A learned cycle of ``cycle_length`` steps for each of ``n_targets`` components.

    Parameters
    ----------
    cycle_length
        ``W``: the steps of one cycle.
    n_targets
        ``C``: target components (each has its own cycle).
    gain
        The cycle is stored divided by ``gain`` and learns ``gain`` times faster than the
        other weights (default :data:`CYCLE_GAIN`).

    Examples
    --------
    >>> periodic = PeriodicComponent(24, 3)
    >>> tuple(periodic(torch.tensor([0, 5]), start=96, steps=12).shape)
    (2, 12, 3)
    """

    def __init__(self, cycle_length: int, n_targets: int, gain: float = CYCLE_GAIN) -> None:
        super().__init__()
        if not gain > 0:
            raise ValueError(f"gain must be positive, got {gain!r}")
        self.cycle_length = cycle_length
        self.gain = float(gain)
        # (W, C), stored divided by the gain: see values()
        self.cycle = nn.Parameter(torch.zeros(cycle_length, n_targets))

    def values(self) -> torch.Tensor:
        """``(W, C)``: one period of each component's cycle."""
        return self.cycle * self.gain

    @torch.no_grad()
    def set_values(self, values: torch.Tensor) -> None:
        """Set one period of each component's cycle: ``values`` ``(W, C)``."""
        if tuple(values.shape) != tuple(self.cycle.shape):
            raise ValueError(
                f"a cycle of shape {tuple(self.cycle.shape)} (W, C) is needed, got "
                f"{tuple(values.shape)}"
            )
        self.cycle.copy_(values.to(self.cycle) / self.gain)

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


def phase_sums(
    values: torch.Tensor, phase: torch.Tensor, cycle_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum ``values`` per position in the cycle: what a cycle's start at the means is made of.

    Parameters
    ----------
    values
        ``(B, L, C)`` windows; step ``t`` of window ``b`` is at position
        ``(phase[b] + t) % W`` of the cycle.
    phase
        ``(B,)`` integer phase of each window's first step, in ``[0, W)``.
    cycle_length
        ``W``.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor]
        ``(W, C)`` float64 sums and ``(W,)`` counts of the steps at each position.

    Examples
    --------
    >>> sums, counts = phase_sums(torch.ones(2, 3, 1), torch.tensor([0, 1]), 4)
    >>> sums[:, 0].tolist(), counts.tolist()
    ([1.0, 2.0, 2.0, 1.0], [1, 2, 2, 1])
    """
    b, steps, c = values.shape
    # (B, L): each step's position in the cycle
    positions = (phase.long()[:, None] + torch.arange(steps, device=phase.device)) % cycle_length
    positions = positions.reshape(-1).to(values.device)
    sums = torch.zeros(cycle_length, c, dtype=torch.float64, device=values.device)
    sums.index_add_(0, positions, values.reshape(b * steps, c).to(torch.float64))
    counts = torch.bincount(positions, minlength=cycle_length)
    return sums, counts
