"""A trained :class:`~cnforecast.layers.network.CircuitNetwork` run by torch, on arrays."""

from __future__ import annotations

import numpy as np
import torch

from cnforecast.layers.network import CircuitNetwork

__all__ = ["TorchRunner", "check_point_network", "inference_device"]


def inference_device(accelerator: str = "auto") -> torch.device:
    """The torch device for a Lightning-style accelerator name (``auto``, ``cpu``, ``gpu``).

    Examples
    --------
    >>> inference_device("cpu")
    device(type='cpu')
    """
    name = (accelerator or "auto").lower()
    if name == "cpu":
        return torch.device("cpu")
    if name in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"accelerator {accelerator!r} was asked for, but torch sees no GPU")
        return torch.device("cuda")
    if name == "mps":
        return torch.device("mps")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    raise ValueError(f"unknown accelerator {accelerator!r}: use cpu, gpu or auto")


def check_point_network(network: CircuitNetwork) -> None:
    """Refuse a network that needs covariates or gives a likelihood's parameters."""
    shape = network.network_shape
    if shape.past_cov_dim or shape.future_cov_dim or shape.static_cov_dim:
        raise ValueError("the darts-free predictor forecasts networks without covariates only")
    if shape.nr_params != 1:
        raise ValueError(
            "the darts-free predictor gives point forecasts: the network has a likelihood"
        )


class TorchRunner:
    """``(b, L, C)`` windows -> ``(b, H, C)`` point forecasts through the torch network.

    Examples
    --------
    >>> from cnforecast.layers.config import CircuitConfig
    >>> from cnforecast.layers.network import NetworkShape
    >>> net = CircuitNetwork(CircuitConfig(d_model=8, n_heads=2), NetworkShape(32, 8))
    >>> TorchRunner(net)(np.zeros((3, 32, 2), dtype=np.float32)).shape
    (3, 8, 2)
    """

    engine = "network"

    def __init__(self, network: CircuitNetwork, device: str | torch.device = "cpu") -> None:
        check_point_network(network)
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        shape = network.network_shape
        self.input_chunk_length = shape.input_chunk_length
        self.output_chunk_length = shape.output_chunk_length
        self.n_targets = network.n_targets
        self.cycle_length = network.config.cycle_length
        self.dtype = np.dtype(str(next(network.parameters()).dtype).removeprefix("torch."))

    def __call__(self, windows: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(windows, dtype=self.dtype))
            step = None if phase is None else torch.from_numpy(phase).to(self.device)
            # (b, L, C) -> (b, H, C, 1) -> (b, H, C)
            return self.network(x.to(self.device), phase=step)[..., 0].cpu().numpy()
