"""Forecasts from a trained CircuitNet network, darts' way, without darts' models.

:class:`NetworkPredictor` takes the last ``L`` values of each series, runs the network in
batches and, for ``n`` beyond the horizon ``H``, feeds its forecasts back as darts'
``predict`` does (auto-regressive roll-outs of ``H`` steps), so its forecasts are darts'
(``tests/test_inference.py``). It serves networks without covariates and without a
likelihood; anything else goes through the darts model.

The network runs behind a *runner*, a callable from ``(b, L, C)`` windows to ``(b, H, C)``
forecasts (numpy arrays): :class:`~cnforecast.inference.torch_runner.TorchRunner` (torch,
on any device) or :class:`~cnforecast.inference.onnx_file.OnnxRunner` (ONNX Runtime, no
torch). This module imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from darts import TimeSeries

    from cnforecast.layers.network import CircuitNetwork

__all__ = ["DEFAULT_BATCH_SIZE", "NetworkPredictor", "Runner"]

#: Windows per forward pass when the caller gives no batch size.
DEFAULT_BATCH_SIZE = 1024


class Runner(Protocol):
    """Runs a point-forecast network on arrays: ``(b, L, C)`` -> ``(b, H, C)``.

    A network with a learned cycle (``cycle_length``) also takes ``phase`` ``(b,)``, the
    step of the cycle at each window's first step.
    """

    engine: str
    input_chunk_length: int
    output_chunk_length: int
    n_targets: int | None
    cycle_length: int | None
    dtype: np.dtype

    def __call__(self, windows: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray: ...


class NetworkPredictor:
    """A network behind darts' ``predict`` signature, for target-only point forecasts.

    Parameters
    ----------
    network
        A trained :class:`~cnforecast.layers.network.CircuitNetwork` without covariates
        and with one output per step (no likelihood), run by torch; or a :class:`Runner`
        (such as :class:`~cnforecast.inference.onnx_file.OnnxRunner`).
    device
        Where torch runs the network.

    Examples
    --------
    >>> from cnforecast.layers.config import CircuitConfig
    >>> from cnforecast.layers.network import CircuitNetwork, NetworkShape
    >>> net = CircuitNetwork(CircuitConfig(d_model=8, n_heads=2), NetworkShape(32, 8))
    >>> NetworkPredictor(net).forecast(np.random.rand(3, 40, 2), n=20).shape
    (3, 20, 2)
    """

    supports_probabilistic_prediction = False

    def __init__(self, network: CircuitNetwork | Runner, device: Any = "cpu") -> None:
        self.runner: Runner
        if hasattr(network, "network_shape"):  # a CircuitNetwork: torch runs it
            from cnforecast.inference.torch_runner import TorchRunner

            self.runner = TorchRunner(network, device)  # type: ignore[arg-type]
        elif device != "cpu":
            raise ValueError("a runner runs where it was built: give no device with it")
        else:
            self.runner = network  # type: ignore[assignment]
        self.dtype = self.runner.dtype

    @property
    def engine(self) -> str:
        """What runs the network: ``"network"`` (torch) or ``"onnx"`` (ONNX Runtime)."""
        return self.runner.engine

    @property
    def input_chunk_length(self) -> int:
        return self.runner.input_chunk_length

    @property
    def output_chunk_length(self) -> int:
        return self.runner.output_chunk_length

    @property
    def cycle_length(self) -> int | None:
        """``W`` of a network with a learned cycle (it then needs each window's phase)."""
        return self.runner.cycle_length

    def forecast(
        self,
        windows: np.ndarray,
        n: int,
        batch_size: int | None = None,
        phases: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(B, T, C)`` histories (``T >= L``, the last ``L`` steps are used) -> ``(B, n, C)``.

        ``phases`` ``(B,)``: for a network with a learned cycle, the step of the cycle at the
        first of the last ``L`` steps of each history
        (:func:`cnforecast.cycle_phase.window_phases`).
        """
        lookback = self.input_chunk_length
        if windows.ndim != 3 or windows.shape[1] < lookback:
            raise ValueError(
                f"expected histories of shape (series, time >= {lookback}, components), got "
                f"{windows.shape}"
            )
        targets = self.runner.n_targets
        if targets is not None and windows.shape[2] != targets:
            raise ValueError(
                f"the network forecasts {targets} target component(s), got windows with "
                f"{windows.shape[2]}"
            )
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if self.cycle_length and (phases is None or np.shape(phases) != (len(windows),)):
            raise ValueError(
                f"this network learned a cycle of {self.cycle_length} steps: give the phase "
                "of each window's first step, phases of shape (series,)"
            )
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        history = np.ascontiguousarray(windows[:, -lookback:], dtype=self.dtype)
        phase = None if not self.cycle_length else np.asarray(phases, dtype=np.int64)
        parts = [
            self._roll_out(
                history[start : start + batch_size],
                n,
                None if phase is None else phase[start : start + batch_size],
            )
            for start in range(0, len(history), batch_size)
        ]
        return np.concatenate(parts) if parts else np.empty((0, n, windows.shape[2]), self.dtype)

    def _roll_out(self, x: np.ndarray, n: int, phase: np.ndarray | None) -> np.ndarray:
        """``(b, L, C)`` windows -> ``(b, n, C)``, chunk after chunk as darts' ``predict``.

        As darts does, the last chunk ends exactly at ``max(n, H)``: when ``n`` is not a
        multiple of H, the chunk before it is cut short and the last one starts earlier.
        Each new window is the last L steps of the previous one and the ``roll`` forecast
        steps kept from it, so it starts ``roll`` steps later (and so does its phase).
        """
        lookback, horizon = self.input_chunk_length, self.output_chunk_length
        out = self.runner(x, phase)  # (b, H, C)
        chunks, length, roll = [out], horizon, horizon
        target = max(n, horizon)
        while length < target:
            if length + horizon > target:  # the last chunk: step back to end at target
                spill = length + horizon - target
                roll, length = roll - spill, length - spill
                chunks[-1] = chunks[-1][:, :roll]
            x = np.concatenate([x, out[:, :roll]], axis=1)[:, -lookback:]
            if phase is not None:
                phase = (phase + roll) % self.cycle_length
            out = self.runner(np.ascontiguousarray(x), phase)
            chunks.append(out)
            length += horizon
        return np.concatenate(chunks, axis=1)[:, :n]

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
        windows = self.windows(items)  # checks the lengths first
        values = self.forecast(windows, n, batch_size, self.phases(items))
        forecasts = self.to_series(items, values)
        return forecasts[0] if single else forecasts

    def phases(self, series: Sequence[TimeSeries]) -> np.ndarray | None:
        """The phase of each series' window (its first of the last L steps), or ``None`` for
        a network without a learned cycle."""
        if not self.cycle_length:
            return None
        from cnforecast.cycle_phase import window_phases

        return window_phases(series, self.input_chunk_length, self.cycle_length)

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
