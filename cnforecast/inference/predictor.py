"""Forecasts from a :class:`~cnforecast.layers.network.CircuitNetwork`, darts' way, without darts.

:class:`NetworkPredictor` takes the last ``L`` values of each series, runs the network in
batches and, for ``n`` beyond the horizon ``H``, feeds its forecasts back as darts'
``predict`` does (auto-regressive roll-outs of ``H`` steps), so its forecasts are darts'
(``tests/test_inference.py``). It serves networks without covariates and without a
likelihood; anything else goes through the darts model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cnforecast.layers.network import CircuitNetwork

if TYPE_CHECKING:
    from darts import TimeSeries

__all__ = ["DEFAULT_BATCH_SIZE", "NetworkPredictor", "inference_device"]

#: Windows per forward pass when the caller gives no batch size.
DEFAULT_BATCH_SIZE = 1024


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


class NetworkPredictor:
    """A network behind darts' ``predict`` signature, for target-only point forecasts.

    Parameters
    ----------
    network
        A trained network without covariates and with one output per step (no likelihood).
    device
        Where to run it.

    Examples
    --------
    >>> from cnforecast.layers.config import CircuitConfig
    >>> from cnforecast.layers.network import NetworkShape
    >>> net = CircuitNetwork(CircuitConfig(d_model=8, n_heads=2), NetworkShape(32, 8))
    >>> NetworkPredictor(net).forecast(np.random.rand(3, 40, 2), n=20).shape
    (3, 20, 2)
    """

    supports_probabilistic_prediction = False

    def __init__(self, network: CircuitNetwork, device: str | torch.device = "cpu") -> None:
        shape = network.network_shape
        if shape.past_cov_dim or shape.future_cov_dim or shape.static_cov_dim:
            raise ValueError("NetworkPredictor forecasts networks without covariates only")
        if shape.nr_params != 1:
            raise ValueError("NetworkPredictor gives point forecasts: the network has a likelihood")
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.dtype = next(network.parameters()).dtype

    @property
    def input_chunk_length(self) -> int:
        return self.network.network_shape.input_chunk_length

    @property
    def output_chunk_length(self) -> int:
        return self.network.network_shape.output_chunk_length

    def forecast(self, windows: np.ndarray, n: int, batch_size: int | None = None) -> np.ndarray:
        """``(B, T, C)`` histories (``T >= L``, the last ``L`` steps are used) -> ``(B, n, C)``."""
        lookback = self.input_chunk_length
        if windows.ndim != 3 or windows.shape[1] < lookback:
            raise ValueError(
                f"expected histories of shape (series, time >= {lookback}, components), got "
                f"{windows.shape}"
            )
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        history = torch.as_tensor(windows[:, -lookback:], dtype=self.dtype)
        parts = []
        with torch.inference_mode():
            for start in range(0, len(history), batch_size):
                x = history[start : start + batch_size].to(self.device)
                parts.append(self._roll_out(x, n).cpu())
        return torch.cat(parts).numpy()

    def _roll_out(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """``(b, L, C)`` windows -> ``(b, n, C)``, chunk after chunk as darts' ``predict``.

        As darts does, the last chunk ends exactly at ``max(n, H)``: when ``n`` is not a
        multiple of H, the chunk before it is cut short and the last one starts earlier.
        """
        lookback, horizon = self.input_chunk_length, self.output_chunk_length
        out = self.network(x)[..., 0]  # (b, H, C, 1) -> (b, H, C)
        chunks, length, roll = [out], horizon, horizon
        target = max(n, horizon)
        while length < target:
            if length + horizon > target:  # the last chunk: step back to end at target
                spill = length + horizon - target
                roll, length = roll - spill, length - spill
                chunks[-1] = chunks[-1][:, :roll]
            if lookback >= roll:
                x = torch.cat([x[:, roll:], out[:, :roll]], dim=1)
            else:
                x = out[:, -lookback:]
            out = self.network(x)[..., 0]
            chunks.append(out)
            length += horizon
        return torch.cat(chunks, dim=1)[:, :n]

    def predict(
        self,
        n: int,
        series: TimeSeries | Sequence[TimeSeries],
        past_covariates: Any = None,
        future_covariates: Any = None,
        num_samples: int = 1,
        batch_size: int | None = None,
        show_warnings: bool = False,
        verbose: bool = False,
    ) -> TimeSeries | list[TimeSeries]:
        """darts' ``predict`` for target-only series: one forecast ``TimeSeries`` per series.

        ``show_warnings`` and ``verbose`` are accepted for darts' signature; nothing is shown.
        """
        from darts import TimeSeries

        if past_covariates is not None or future_covariates is not None:
            raise ValueError("this network was trained without covariates: pass none")
        if num_samples != 1:
            raise ValueError("this network gives point forecasts: num_samples must be 1")
        single = isinstance(series, TimeSeries)
        items = [series] if single else list(series)
        if not items:
            return []
        forecasts = self.to_series(items, self.forecast(self.windows(items), n, batch_size))
        return forecasts[0] if single else forecasts

    def windows(self, series: Sequence[TimeSeries]) -> np.ndarray:
        """The last ``L`` values of every series: ``(S, L, C)``."""
        lookback = self.input_chunk_length
        for i, ts in enumerate(series):
            if len(ts) < lookback:
                raise ValueError(
                    f"series {i} has {len(ts)} time steps; the model needs at least "
                    f"input_chunk_length={lookback}"
                )
        return np.stack([ts.values(copy=False)[-lookback:] for ts in series])

    @staticmethod
    def to_series(histories: Sequence[TimeSeries], values: np.ndarray) -> list[TimeSeries]:
        """``(S, n, C)`` forecasts as series that continue ``histories`` (their components,
        static covariates and time steps; values in the histories' precision)."""
        from darts import TimeSeries
        from darts.utils.utils import generate_index

        indexes: dict[Any, Any] = {}  # series that end together share their future index
        values = values.astype(histories[0].dtype, copy=False) if len(histories) else values
        out = []
        for ts, block in zip(histories, values):
            key = (ts.end_time(), ts.freq)
            index = indexes.get(key)
            if index is None:  # the steps after the end, as darts' predict makes them
                index = indexes[key] = generate_index(
                    start=ts.end_time() + ts.freq,
                    length=len(block),
                    freq=ts.freq,
                    name=ts.time_index.name,
                )
            out.append(
                TimeSeries(
                    index,
                    block,
                    components=ts.components,
                    static_covariates=ts.static_covariates,
                    copy=False,
                )
            )
        return out
