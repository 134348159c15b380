"""Read-out: neuron states to the forecast, with future and static covariates mixed in."""

from __future__ import annotations

import torch
from torch import nn


class Readout(nn.Module):
    """Maps the states of ``M`` units to ``H`` steps (times ``nr_params``) for one sequence.

    Factorised (``rank`` given): each unit's read neurons are first compressed to ``r``
    features by a map shared by the units, then the ``M * r`` features map to the horizon,
    so the weights grow with ``M * r * H`` instead of ``M * N * D * H``. Full (``rank``
    None): one linear map of all flattened states. The last map starts at zero (by
    default), so a fresh read-out adds nothing to the linear path next to it. When
    covariates are given, a small MLP adds, for each step ``t``, a term computed from a
    context vector of the states, the future covariates at ``t`` and the sequence's static
    covariates.

    Parameters
    ----------
    n_units, unit_features
        ``M`` and the flattened size of one unit's read neurons (``N * D`` or ``P * D``).
    horizon
        ``H``.
    steps
        How many of the first steps the read-out of the states forecasts (``S <= H``);
        the later steps get zero from it (the model's linear path forecasts them). The
        covariate term covers all ``H`` steps.
    nr_params
        Likelihood parameters per step (1 without a likelihood).
    rank
        ``r``, features per unit in the factorised read-out; None for the full map.
    future_cov_dim, static_cov_dim
        Future covariate components per step and static covariates per sequence (0: none).
    hidden
        Hidden size of the covariate MLP.
    dropout
        Dropout on the states and in the MLP.
    zero_start
        Start the last map at zero (default); False keeps ``nn.Linear``'s random start.
        Either way the same random numbers are drawn, so the other weights do not change.
    """

    def __init__(
        self,
        n_units: int,
        unit_features: int,
        horizon: int,
        steps: int,
        nr_params: int,
        rank: int | None,
        future_cov_dim: int,
        static_cov_dim: int,
        hidden: int,
        dropout: float,
        zero_start: bool = True,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        self.steps = steps
        self.nr_params = nr_params
        self.dropout = nn.Dropout(dropout)
        self.compress = nn.Linear(unit_features, rank) if rank is not None else None
        in_features = n_units * (rank if rank is not None else unit_features)
        self.head = nn.Linear(in_features, steps * nr_params)
        if zero_start:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        self.uses_covariates = bool(future_cov_dim or static_cov_dim)
        if self.uses_covariates:
            self.context = nn.Linear(in_features, hidden)
            self.covariate_mlp = nn.Sequential(
                nn.Linear(hidden + future_cov_dim + static_cov_dim, hidden),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, nr_params),
            )

    def forward(
        self,
        states: torch.Tensor,
        future_covariates: torch.Tensor | None = None,
        static_covariates: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Read out the forecast.

        Parameters
        ----------
        states
            ``(G, M, K, D)`` states of the read neurons (``K`` = ``N`` or ``P``).
        future_covariates
            ``(G, H, Cf)`` or None.
        static_covariates
            ``(G, S)`` or None.

        Returns
        -------
        torch.Tensor
            ``(G, H, nr_params)``.
        """
        g = states.shape[0]
        # (G, M, K, D) -> (G, M, K * D)
        z = self.dropout(states.flatten(2))
        if self.compress is not None:
            # (G, M, K * D) -> (G, M, r)
            z = self.compress(z)
        # (G, M, r or K * D) -> (G, F)
        z = z.flatten(1)
        # (G, F) -> (G, S * nr_params) -> (G, S, nr_params)
        y = self.head(z).view(g, self.steps, self.nr_params)
        if self.steps < self.horizon:
            # (G, S, nr_params) -> (G, H, nr_params), zeros after step S
            y = nn.functional.pad(y, (0, 0, 0, self.horizon - self.steps))
        if not self.uses_covariates:
            return y
        # (G, F) -> (G, hidden) -> (G, H, hidden)
        parts = [self.context(z).unsqueeze(1).expand(-1, self.horizon, -1)]
        if future_covariates is not None:
            parts.append(future_covariates)  # (G, H, Cf)
        if static_covariates is not None:
            # (G, S) -> (G, H, S)
            parts.append(static_covariates.unsqueeze(1).expand(-1, self.horizon, -1))
        # (G, H, hidden + Cf + S) -> (G, H, nr_params)
        return y + self.covariate_mlp(torch.cat(parts, dim=-1))
