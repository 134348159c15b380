"""CircuitNet's default training recipe, read by the model and shown by the registry."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from torch.optim.lr_scheduler import ExponentialLR

#: The training recipe a user gets without asking (see ``docs/architecture.md``): Adam at
#: lr 1e-3, halved after every epoch, for at most 10 epochs. Any of these keywords given
#: to ``CircuitNetModel`` replaces the default.
DEFAULT_TRAINING: MappingProxyType[str, Any] = MappingProxyType(
    {
        "n_epochs": 10,
        "optimizer_kwargs": {"lr": 1e-3},
        "lr_scheduler_cls": ExponentialLR,
        "lr_scheduler_kwargs": {"gamma": 0.5},
    }
)
