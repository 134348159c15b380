"""cnforecast: CircuitNet (Circuit Motif Units) for time-series forecasting on the darts API."""

from importlib.metadata import PackageNotFoundError, version

from cnforecast._lazy import lazy_getattr
from cnforecast.compat import darts_daily

# darts 0.48 + pandas 3 cannot count daily steps; see cnforecast/compat/darts_daily.py
darts_daily.install()

try:
    __version__ = version("cnforecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# Imported on first use, so that the command line starts without torch and darts; importing
# cnforecast.models registers cnforecast's classes with darts' safe loader.
_EXPORTS = {
    "MODELS": "cnforecast.models.registry",
    "CircuitNetModel": "cnforecast.models.circuitnet",
    "ModelSpec": "cnforecast.models.registry",
    "available_models": "cnforecast.models.registry",
    "create_model": "cnforecast.models.registry",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

__all__ = [
    "MODELS",
    "CircuitNetModel",
    "ModelSpec",
    "__version__",
    "available_models",
    "create_model",
]
