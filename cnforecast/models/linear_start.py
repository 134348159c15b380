"""Where the linear path starts with ``linear_init="lstsq"``: least squares on training windows.

The linear path is a window-to-horizon map of the kind linear forecasters learn (DLinear,
RLinear, CycleNet/Linear). Those train at 5e-3 to 1e-2 for up to 30 epochs; inside
CircuitNet it learns at the circuit's rate (1e-3, halved every epoch), so at far horizons,
where it forecasts alone, it may end short of where the data puts it. A linear map's
optimum on the training windows has a closed form (Toner and Darlow, "An Analysis of
Linear Time Series Forecasting Models", ICML 2024, report closed-form least-squares fits as
accurate as gradient-trained linear forecasters on most standard benchmarks): this module
computes it, so training corrects a map that is already in place, as the learned cycle's
mean start does (``cycle_start``). ``linear_init="lstsq_far"`` keeps it only for the steps
past the circuit's, which the linear path forecasts alone.

The fit is of what the linear path sees and what the loss asks of it at the start of
training, when the read-out is zero (its default start): the instance-normalised window
without the learned cycle, to the instance-normalised horizon without the learned cycle.
darts' loss is taken after the normalisation is undone, which multiplies a window's errors
by its standard deviation, so each window is weighted by its variance: the fit minimises
the training loss of a model made of the linear path and the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import torch

from cnforecast.models.cycle_start import MAX_BATCHES, first_phase

__all__ = ["RIDGE", "least_squares", "linear_sums"]

#: Ridge penalty, relative to the mean diagonal of the windows' weighted Gram matrix. The
#: normalised windows sum to about zero, so the Gram matrix is near-singular without it.
RIDGE = 1e-3


@torch.no_grad()
def linear_sums(
    batches: Iterable,
    lookback: int,
    horizon: int,
    normalise=None,
    periodic=None,
    output_chunk_shift: int = 0,
    device: torch.device | str = "cpu",
    max_batches: int = MAX_BATCHES,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Sum the weighted normal equations of a window-to-horizon linear map.

    Parameters
    ----------
    batches
        darts training batches: ``past_target`` ``(B, L, C)``, ``future_target``
        ``(B, H, C)`` and, with ``periodic``, the phase as the last past covariate.
    lookback, horizon
        ``L`` and ``H``.
    normalise
        darts' reversible instance normalisation (``RINorm``), or ``None``: the window is
        normalised by it, the horizon by the window's statistics (``transform``), and each
        window weighted by its variance.
    periodic
        The learned cycle (:class:`~cnforecast.layers.periodic.PeriodicComponent`), or
        ``None``: it is removed from the window and from the horizon.
    output_chunk_shift
        Steps between the window's end and the horizon's start.
    device
        Where to compute.
    max_batches
        Batches read at most.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor, int]
        ``(L + 1, L + 1)`` and ``(L + 1, H)`` float64 sums (the last row and column belong
        to the bias) and the number of sequences summed; sum them over processes when
        training on several, then solve with :func:`least_squares`.
    """
    gram = torch.zeros(lookback + 1, lookback + 1, dtype=torch.float64, device=device)
    cross = torch.zeros(lookback + 1, horizon, dtype=torch.float64, device=device)
    n = 0
    for batch in islice(batches, max_batches):
        window = batch.past_target.to(device=device, dtype=torch.float32)  # (B, L, C)
        future = batch.future_target.to(device=device, dtype=torch.float32)  # (B, H, C)
        weight = torch.ones(window.shape[0], 1, window.shape[2], device=device)  # (B, 1, C)
        if normalise is not None:
            window = normalise(window.clone())
            future = normalise.transform(future.clone())
            weight = normalise.stdev.to(device) ** 2
        if periodic is not None:
            phase = first_phase(batch.past_covariates).to(device)  # (B,)
            window = window - periodic(phase, 0, lookback)
            future = future - periodic(phase, lookback + output_chunk_shift, horizon)
        # (B, L, C) -> (G, L) with G = B * C; a column of ones for the bias -> (G, L + 1)
        x = window.transpose(1, 2).reshape(-1, lookback).to(torch.float64)
        x = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype, device=device)], dim=1)
        y = future.transpose(1, 2).reshape(-1, horizon).to(torch.float64)  # (G, H)
        w = weight.transpose(1, 2).reshape(-1, 1).to(torch.float64)  # (G, 1)
        gram += (x * w).T @ x
        cross += (x * w).T @ y
        n += x.shape[0]
    if n == 0:
        raise ValueError("no training batches to start the linear path from")
    return gram, cross, n


def least_squares(
    gram: torch.Tensor, cross: torch.Tensor, ridge: float = RIDGE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve the ridge-regularised normal equations of :func:`linear_sums`.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor]
        The map's ``(H, L)`` weight and ``(H,)`` bias (float64), as ``nn.Linear`` holds them.
        The bias is not penalised.

    Examples
    --------
    >>> x = torch.randn(200, 3, dtype=torch.float64)
    >>> x1 = torch.cat([x, torch.ones(200, 1, dtype=torch.float64)], dim=1)
    >>> y = x @ torch.tensor([[1.0], [2.0], [-1.0]], dtype=torch.float64) + 0.5
    >>> weight, bias = least_squares(x1.T @ x1, x1.T @ y, ridge=0.0)
    >>> [round(v, 6) for v in weight[0].tolist()], round(bias.item(), 6)
    ([1.0, 2.0, -1.0], 0.5)
    """
    lookback = gram.shape[0] - 1
    diagonal = torch.diagonal(gram)[:lookback]
    penalty = torch.zeros_like(gram)
    penalty.diagonal()[:lookback] = ridge * diagonal.mean().clamp(min=1e-12)
    solution = torch.linalg.solve(gram + penalty, cross)  # (L + 1, H)
    return solution[:lookback].T.contiguous(), solution[lookback].contiguous()
