"""Where the learned cycle starts with ``cycle_init="mean"``: the mean training window per phase.

A cycle learned from zero moves a bounded distance under the recipe's decaying learning
rate, and how far it gets depends on how many training steps an epoch has. Starting it at
the per-phase mean of the (instance-normalised) training windows takes that dependence
away: training then corrects a cycle that is already in place, at the model's own rate.
The default since 0.4, chosen on validation losses (``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import torch

from cnforecast.layers.periodic import phase_sums

__all__ = ["MAX_BATCHES", "cycle_means", "first_phase"]

#: Training batches read for the means, at most (in the data loader's order: shuffled
#: batches are a random sample of the windows).
MAX_BATCHES = 1000


def first_phase(past_covariates: torch.Tensor) -> torch.Tensor:
    """``(B, L, X)`` past covariates -> ``(B,)`` the phase of each window's first step.

    The phase is the last past-covariate component, where
    :class:`~cnforecast.cycle_phase.CyclePhase` puts it (an integer stored as a float).

    Examples
    --------
    >>> first_phase(torch.tensor([[[0.5, 3.0], [0.1, 4.0]]])).tolist()
    [3]
    """
    return past_covariates[:, 0, -1].round().long()


@torch.no_grad()
def cycle_means(
    batches: Iterable,
    cycle_length: int,
    normalise=None,
    device: torch.device | str = "cpu",
    max_batches: int = MAX_BATCHES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum the training windows' target values per cycle position.

    Parameters
    ----------
    batches
        darts training batches (``past_target`` ``(B, L, C)``; the phase is the last past
        covariate, as :class:`~cnforecast.cycle_phase.CyclePhase` puts it there).
    cycle_length
        ``W``.
    normalise
        What the network's input goes through first (darts' reversible instance
        normalisation), or ``None``.
    device
        Where to compute.
    max_batches
        Batches read at most.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor]
        ``(W, C)`` float64 sums and ``(W,)`` counts; divide for the means (sum them over
        processes first when training on several).
    """
    sums = counts = None
    for batch in islice(batches, max_batches):
        target = batch.past_target.to(device=device, dtype=torch.float32)  # (B, L, C)
        if normalise is not None:
            target = normalise(target.clone())
        phase = first_phase(batch.past_covariates).to(device)  # (B,)
        batch_sums, batch_counts = phase_sums(target, phase, cycle_length)
        sums = batch_sums if sums is None else sums + batch_sums
        counts = batch_counts if counts is None else counts + batch_counts
    if sums is None:
        raise ValueError("no training batches to start the cycle from")
    return sums, counts
