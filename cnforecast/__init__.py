"""cnforecast: CircuitNet (Circuit Motif Units) for time-series forecasting on the darts API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cnforecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from cnforecast.models.registry import MODELS, ModelSpec, available_models, create_model

__all__ = ["MODELS", "ModelSpec", "__version__", "available_models", "create_model"]
