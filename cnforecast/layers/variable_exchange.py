"""Messages across the target components: the circuit's sparse wiring on the variable axis.

The circuit reads each target component on its own (channel independence). This layer,
run on the normalised windows before the circuit and the linear path, lets every
component read the others once: each component's window attends to the windows of all
components of the same sample, and what it reads is added to its own window.

The query of a component is not its window but a learned value per component and step of
a cycle, read at the window's phase (the *temporal query* of TQNet, Lin et al., ICML
2025): which components a component listens to can change with the time of day, and not
with the noise of its own window. Without a cycle (``cycle_length=None``) each component
has one learned query for every step.

The map back to the windows starts at zero, so a new layer adds nothing: a new model
forecasts as one without it, and the starts of the cycle and the linear path hold.

Shapes: ``windows`` ``(B, L, C)`` and ``phase`` ``(B,)`` -> ``(B, L, C)``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

__all__ = ["VariableExchange"]


class VariableExchange(nn.Module):
    """Attention across the ``C`` components of each window, with periodic learned queries.

    Parameters
    ----------
    lookback
        ``L``: steps of a window.
    n_targets
        ``C``: target components.
    d_model, n_heads
        ``D``, the size each window is projected to, in ``n_heads`` heads (``D`` must be
        divisible by ``n_heads``).
    cycle_length
        ``W``: the steps of the queries' cycle; 1 for one query per component.
    dropout
        Dropout on the attention weights and on the message.

    Examples
    --------
    >>> exchange = VariableExchange(lookback=48, n_targets=3, d_model=16, n_heads=2)
    >>> windows = torch.randn(5, 48, 3)
    >>> tuple(exchange(windows, torch.zeros(5, dtype=torch.long)).shape)
    (5, 48, 3)
    >>> bool((exchange(windows, torch.zeros(5, dtype=torch.long)) == windows).all())
    True
    """

    def __init__(
        self,
        lookback: int,
        n_targets: int,
        d_model: int,
        n_heads: int,
        cycle_length: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        if cycle_length < 1:
            raise ValueError(f"cycle_length must be >= 1, got {cycle_length!r}")
        self.n_heads = n_heads
        self.cycle_length = cycle_length
        self.dropout = dropout
        # (W, C): the query of each component at each step of the cycle
        self.queries = nn.Parameter(torch.zeros(cycle_length, n_targets))
        self.query = nn.Linear(lookback, d_model)
        self.key = nn.Linear(lookback, d_model)
        self.value = nn.Linear(lookback, d_model)
        self.message_dropout = nn.Dropout(dropout)
        self.out = nn.Linear(d_model, lookback)
        # a new layer adds nothing (see the module's docstring)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, windows: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """``(B, L, C)`` windows and ``(B,)`` phases -> ``(B, L, C)`` windows with messages."""
        b, lookback, c = windows.shape
        if c != self.queries.shape[1]:
            raise ValueError(
                f"the exchange was built for {self.queries.shape[1]} target component(s), "
                f"got windows with {c}"
            )
        steps = torch.arange(lookback, device=windows.device)
        # (B, 1) + (L,) -> (B, L) positions in the cycle -> (B, L, C) -> (B, C, L)
        positions = (phase.long()[:, None] + steps) % self.cycle_length
        queries = self.queries[positions].transpose(1, 2)
        # (B, L, C) -> (B, C, L): a component's window is its token
        tokens = windows.transpose(1, 2)
        heads = self.n_heads

        def split(x: torch.Tensor) -> torch.Tensor:
            # (B, C, D) -> (B, heads, C, D / heads)
            return x.view(b, c, heads, -1).transpose(1, 2)

        # (B, heads, C, D / heads) attended over the C components -> (B, C, D)
        mixed = functional.scaled_dot_product_attention(
            split(self.query(queries)),
            split(self.key(tokens)),
            split(self.value(tokens)),
            dropout_p=self.dropout if self.training else 0.0,
        )
        mixed = mixed.transpose(1, 2).reshape(b, c, -1)
        # (B, C, D) -> (B, C, L) -> (B, L, C), added to the windows
        return windows + self.out(self.message_dropout(mixed)).transpose(1, 2)
