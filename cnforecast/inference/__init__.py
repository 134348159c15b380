"""Forecasting with a trained CircuitNet without darts' models or Lightning.

A trained :class:`~cnforecast.models.circuitnet.CircuitNetModel` exports its layers as a
plain torch module (:meth:`~cnforecast.models.circuitnet.CircuitNetModel.export_network`),
saved as a network file of tensors and plain values (:mod:`cnforecast.inference.network_file`,
read back without unpickling any code) and, with the ``onnx`` extra, as an ONNX graph
(:mod:`cnforecast.inference.onnx_file`, run by ONNX Runtime without torch).
:class:`~cnforecast.inference.predictor.NetworkPredictor` forecasts with either: from
arrays, or from darts ``TimeSeries`` with darts' ``predict`` signature, giving darts'
forecasts (tested). ``cnforecast predict`` and ``forecast-batch`` use them whenever a model
directory holds them and the model has no covariates and no likelihood
(:mod:`cnforecast.jobs.engines`).

Names are imported on first use: ``from cnforecast.inference import OnnxRunner`` does not
import torch.
"""

from cnforecast._lazy import lazy_getattr

_EXPORTS = {
    "NetworkFileError": "cnforecast.inference.errors",
    "load_network": "cnforecast.inference.network_file",
    "save_network": "cnforecast.inference.network_file",
    "NetworkPredictor": "cnforecast.inference.predictor",
    "TorchRunner": "cnforecast.inference.torch_runner",
    "inference_device": "cnforecast.inference.torch_runner",
    "OnnxRunner": "cnforecast.inference.onnx_file",
    "save_onnx": "cnforecast.inference.onnx_file",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
