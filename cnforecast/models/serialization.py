"""Allow-listing cnforecast's classes for darts' restricted model loading.

darts 0.48 loads saved models through a restricted unpickler that refuses classes outside
darts unless they are registered with :func:`darts.utils.serialization.add_safe_globals`.
``import cnforecast`` calls :func:`register_safe_globals`, so ``CircuitNetModel.load(path)``
works straight away.
"""

from __future__ import annotations

from darts.utils.serialization import add_safe_globals


def safe_globals() -> list:
    """The classes and functions a saved cnforecast model may reference."""
    from cnforecast.cycle_phase import CyclePhase
    from cnforecast.layers.config import CircuitConfig
    from cnforecast.models.circuitnet import CircuitNetModel, _CircuitNetModule

    return [CircuitNetModel, _CircuitNetModule, CircuitConfig, CyclePhase]


def register_safe_globals() -> None:
    """Register :func:`safe_globals` with darts (idempotent)."""
    add_safe_globals(safe_globals())
