"""Read-out: neuron states to the forecast, with future and static covariates mixed in."""

from __future__ import annotations

import torch
from torch import nn


class Readout(nn.Module):
    """Maps flattened neuron states to ``H`` steps (times ``nr_params``) for one sequence.

    ``y = W z`` for the flattened states ``z``; when covariates are given, a small MLP adds,
    for each step ``t``, a term computed from a context vector of ``z``, the future
    covariates at ``t`` and the sequence's static covariates.

    Parameters
    ----------
    in_features
        Size of the flattened states.
    horizon
        ``H``.
    nr_params
        Likelihood parameters per step (1 without a likelihood).
    future_cov_dim, static_cov_dim
        Future covariate components per step and static covariates per sequence (0: none).
    hidden
        Hidden size of the covariate MLP.
    dropout
        Dropout on the flattened states and in the MLP.
    """

    def __init__(
        self,
        in_features: int,
        horizon: int,
        nr_params: int,
        future_cov_dim: int = 0,
        static_cov_dim: int = 0,
        hidden: int = 64,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        self.nr_params = nr_params
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_features, horizon * nr_params)
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
        z: torch.Tensor,
        future_covariates: torch.Tensor | None = None,
        static_covariates: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Read out the forecast.

        Parameters
        ----------
        z
            ``(G, F)`` flattened neuron states.
        future_covariates
            ``(G, H, Cf)`` or None.
        static_covariates
            ``(G, S)`` or None.

        Returns
        -------
        torch.Tensor
            ``(G, H, nr_params)``.
        """
        g = z.shape[0]
        z = self.dropout(z)
        # (G, F) -> (G, H * nr_params) -> (G, H, nr_params)
        y = self.head(z).view(g, self.horizon, self.nr_params)
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
