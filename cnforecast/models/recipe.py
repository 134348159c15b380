"""CircuitNet's default training recipe, read by the model and shown by the registry."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from torch.nn import HuberLoss
from torch.optim.lr_scheduler import ExponentialLR

#: The training recipe a user gets without asking (see ``docs/architecture.md``): Adam at
#: lr 1e-3, halved after every epoch, for at most 10 epochs, on the Huber loss (threshold
#: 1.0 in the series' own units, chosen on standardised data; since 0.6, before it the
#: squared error). Any of these keywords given to ``CircuitNetModel`` replaces the
#: default; a likelihood replaces the loss.
DEFAULT_TRAINING: MappingProxyType[str, Any] = MappingProxyType(
    {
        "n_epochs": 10,
        "loss_fn": HuberLoss(),
        "optimizer_kwargs": {"lr": 1e-3},
        "lr_scheduler_cls": ExponentialLR,
        "lr_scheduler_kwargs": {"gamma": 0.5},
    }
)
