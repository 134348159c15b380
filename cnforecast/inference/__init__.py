"""Forecasting with a trained CircuitNet without darts or Lightning.

A trained :class:`~cnforecast.models.circuitnet.CircuitNetModel` exports its layers as a
plain torch module (:meth:`~cnforecast.models.circuitnet.CircuitNetModel.export_network`),
saved as a network file of tensors and plain values (:mod:`cnforecast.inference.network_file`,
read back without unpickling any code). :class:`~cnforecast.inference.predictor.NetworkPredictor`
forecasts with it: from arrays, or from darts ``TimeSeries`` with darts' ``predict``
signature, giving darts' forecasts (tested). Importing this package imports torch, not
darts' models or Lightning, which take several seconds to import: ``cnforecast predict``
and ``forecast-batch`` use it whenever a model directory holds a network file and the model
has no covariates and no likelihood.
"""

from cnforecast.inference.network_file import (
    NetworkFileError,
    load_network,
    save_network,
)
from cnforecast.inference.predictor import NetworkPredictor, inference_device

__all__ = [
    "NetworkFileError",
    "NetworkPredictor",
    "inference_device",
    "load_network",
    "save_network",
]
