"""cnforecast: CircuitNet (Circuit Motif Units) for time-series forecasting on the darts API."""

from importlib.metadata import PackageNotFoundError, version

from cnforecast.compat import darts_daily

# darts 0.48 + pandas 3 cannot count daily steps; see cnforecast/compat/darts_daily.py
darts_daily.install()

try:
    __version__ = version("cnforecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from cnforecast.models.circuitnet import CircuitNetModel
from cnforecast.models.registry import MODELS, ModelSpec, available_models, create_model
from cnforecast.models.serialization import register_safe_globals

register_safe_globals()

__all__ = [
    "MODELS",
    "CircuitNetModel",
    "ModelSpec",
    "__version__",
    "available_models",
    "create_model",
]
