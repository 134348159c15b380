"""Evaluation: every rolling forecast of a fitted model, and the benchmark's test protocol.

One rolling forecast (:func:`rolling_forecasts`, darts ``historical_forecasts`` without
retraining by default, every forecast whole) serves both the benchmark's test windows and
the backtests of saved models:

- :func:`evaluate`: the standard long-horizon test protocol (Informer / Autoformer /
  Time-Series-Library). Window ``i`` takes rows ``[i, i + L)`` of the scaled test series as
  input and rows ``[i + L, i + L + H)`` as targets, at stride 1; MSE and MAE are averaged
  over windows, steps and channels on the scaled values, in chunks of windows so that long
  test sets fit in memory. The number of windows is checked against ``split.n_windows(H)``.
- :mod:`cnforecast.jobs.forecaster`: backtests in the original units, from a start point,
  every ``stride`` steps, over many series with covariates.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from darts import TimeSeries
from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel

from cnforecast.engine.metrics import ErrorAccumulator

__all__ = [
    "MAX_EVAL_ELEMENTS",
    "Evaluation",
    "ForecastExamples",
    "SplitLike",
    "count_windows",
    "evaluate",
    "rolling_forecasts",
]

logger = logging.getLogger(__name__)

#: Upper bound on the forecast values held at once while evaluating (float32 elements,
#: about 256 MB); longer test sets are evaluated in chunks of windows.
MAX_EVAL_ELEMENTS = 64_000_000


class SplitLike(Protocol):
    """What the protocol needs from :class:`cnforecast.datasets.DatasetSplit`."""

    train: TimeSeries
    val: TimeSeries
    test: TimeSeries
    lookback: int

    def n_windows(self, horizon: int, part: str = "test") -> int: ...


def count_windows(series_length: int, lookback: int, horizon: int) -> int:
    """Windows of ``lookback`` inputs then ``horizon`` targets in a series, at stride 1.

    Examples
    --------
    >>> count_windows(2976, 96, 96)  # ETTh1 test part at L = H = 96
    2785
    """
    return max(0, series_length - lookback - horizon + 1)


def rolling_forecasts(
    model: TorchForecastingModel,
    series: TimeSeries | Sequence[TimeSeries],
    *,
    horizon: int,
    start: float | int | None = None,
    start_format: str = "value",
    stride: int = 1,
    retrain: bool = False,
    num_samples: int = 1,
    past_covariates: Any = None,
    future_covariates: Any = None,
    batch_size: int | None = None,
) -> list[list[TimeSeries]]:
    """Every whole forecast of ``horizon`` steps from ``start`` on, ``stride`` steps apart.

    darts' ``historical_forecasts`` with ``last_points_only=False`` and
    ``overlap_end=False``: without retraining, the windows are batched through the trained
    network (the same numbers as ``predict`` on each input window). Returns one list of
    forecasts per series, also for a single series. darts' errors propagate.
    """
    result = model.historical_forecasts(
        series,
        past_covariates=past_covariates,
        future_covariates=future_covariates,
        forecast_horizon=horizon,
        num_samples=num_samples,
        stride=stride,
        retrain=retrain,
        last_points_only=False,
        start=start,
        start_format=start_format,
        overlap_end=False,
        verbose=False,
        show_warnings=False,
        predict_kwargs={"batch_size": batch_size} if batch_size is not None else None,
    )
    if isinstance(series, TimeSeries) or (result and isinstance(result[0], TimeSeries)):
        return [list(result)]
    return [list(r) for r in result]


@dataclass
class ForecastExamples:
    """A few test windows of one channel, for plots (scaled values).

    Attributes
    ----------
    indices
        Window indices within the test set.
    component
        Name of the channel.
    inputs
        ``(k, L)`` input values.
    targets, predictions
        ``(k, H)`` true and forecast values.
    """

    indices: np.ndarray
    component: str
    inputs: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray

    def save(self, path: os.PathLike[str] | str) -> None:
        """Write to a ``.npz`` file."""
        np.savez_compressed(
            path,
            indices=self.indices,
            component=np.array(self.component),
            inputs=self.inputs,
            targets=self.targets,
            predictions=self.predictions,
        )

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> ForecastExamples:
        """Read a file written by :meth:`save`."""
        with np.load(path) as data:
            return cls(
                indices=data["indices"],
                component=str(data["component"]),
                inputs=data["inputs"],
                targets=data["targets"],
                predictions=data["predictions"],
            )


@dataclass
class Evaluation:
    """Test-set result of one run."""

    mse: float
    mae: float
    n_windows: int
    predict_time_s: float
    examples: ForecastExamples | None = None


def _example_indices(n_windows: int, k: int) -> np.ndarray:
    if k <= 0 or n_windows <= 0:
        return np.array([], dtype=int)
    return np.unique(np.linspace(0, n_windows - 1, num=min(k, n_windows)).round().astype(int))


def evaluate(
    model: TorchForecastingModel,
    series: TimeSeries,
    *,
    lookback: int,
    horizon: int,
    expected_windows: int | None = None,
    batch_size: int = 256,
    n_examples: int = 3,
    example_component: int | str = -1,
    max_elements: int = MAX_EVAL_ELEMENTS,
) -> Evaluation:
    """Forecast every window of ``series`` at stride 1 and score it.

    Window ``i`` has inputs ``series[i : i + lookback]`` and targets
    ``series[i + lookback : i + lookback + horizon]``. The forecasts come from darts'
    ``historical_forecasts(retrain=False, last_points_only=False)``, which batches the
    windows through the trained network (the same numbers as ``predict`` on each input
    window), in chunks of at most ``max_elements`` forecast values.

    Parameters
    ----------
    model
        A fitted darts model with ``input_chunk_length == lookback``.
    series
        The scaled test series: ``lookback`` rows before the test border, then the test rows.
    lookback, horizon
        L and H.
    expected_windows
        If given (``split.n_windows(H)``), the number of windows evaluated must equal it.
    batch_size
        Prediction batch size.
    n_examples
        How many windows (spread over the test set) to keep for plots.
    example_component
        Which channel to keep for plots (index or name; default: the last, ``OT`` in ETT).
    max_elements
        Chunk size bound, in forecast values.

    Returns
    -------
    Evaluation
        MSE, MAE (scaled space), the window count, prediction wall time and examples.
    """
    if model.input_chunk_length != lookback:
        raise ValueError(
            f"the model's input_chunk_length {model.input_chunk_length} is not L={lookback}"
        )
    n_windows = count_windows(len(series), lookback, horizon)
    if expected_windows is not None and n_windows != expected_windows:
        raise AssertionError(
            f"the test series gives {n_windows} windows, the split says {expected_windows}"
        )
    if n_windows == 0:
        raise ValueError(f"the test series ({len(series)} rows) is shorter than L + H")
    values = series.values(copy=False)
    n_channels = values.shape[1]
    comp_idx = (
        list(series.components).index(example_component)
        if isinstance(example_component, str)
        else example_component % n_channels
    )
    keep = _example_indices(n_windows, n_examples)
    kept_pred: dict[int, np.ndarray] = {}
    chunk = max(1, max_elements // (horizon * n_channels))
    acc = ErrorAccumulator()
    steps = np.arange(horizon)
    predict_time = 0.0
    for first in range(0, n_windows, chunk):
        last = min(n_windows, first + chunk)  # windows [first, last)
        part = series[first : last + lookback + horizon - 1]
        start = time.perf_counter()
        (forecasts,) = rolling_forecasts(
            model,
            part,
            horizon=horizon,
            start=lookback,
            start_format="position",
            batch_size=batch_size,
        )
        predict_time += time.perf_counter() - start
        if len(forecasts) != last - first:
            raise AssertionError(f"expected {last - first} forecasts, got {len(forecasts)}")
        if forecasts[0].start_time() != series.time_index[first + lookback]:
            raise AssertionError("historical forecasts are not aligned with the test windows")
        pred = np.stack([f.values(copy=False) for f in forecasts])  # (W, H, C)
        rows = (np.arange(first, last) + lookback)[:, None] + steps[None, :]  # (W, H)
        acc.update(values[rows], pred)
        for i in keep[(keep >= first) & (keep < last)]:
            kept_pred[int(i)] = pred[i - first, :, comp_idx]
    if acc.n_windows != n_windows:
        raise AssertionError(f"evaluated {acc.n_windows} windows instead of {n_windows}")
    examples = None
    if len(keep):
        examples = ForecastExamples(
            indices=keep,
            component=str(series.components[comp_idx]),
            inputs=np.stack([values[i : i + lookback, comp_idx] for i in keep]),
            targets=np.stack(
                [values[i + lookback : i + lookback + horizon, comp_idx] for i in keep]
            ),
            predictions=np.stack([kept_pred[int(i)] for i in keep]),
        )
    return Evaluation(
        mse=acc.mse,
        mae=acc.mae,
        n_windows=n_windows,
        predict_time_s=predict_time,
        examples=examples,
    )
