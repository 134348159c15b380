"""Point-forecast error metrics: MSE, MAE and MAPE, one set for the benchmark and the jobs.

The long-horizon literature (Informer, Autoformer, Time-Series-Library) averages the squared
and absolute errors over every test window, every forecast step and every channel, on the
z-scored values. With the same number of steps and channels in every window this is the
plain mean over all elements, which is what :func:`mse` and :func:`mae` compute;
:class:`ErrorAccumulator` gives the same numbers when the windows arrive in chunks, without
holding them all in memory (the benchmark's test sets). :func:`error_metrics` adds MAPE for
the backtests, which report errors in the original units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MAPE_UNDEFINED", "ErrorAccumulator", "error_metrics", "mae", "mse"]

#: Why MAPE is missing where an actual value is zero.
MAPE_UNDEFINED = "not defined: the actual values contain zeros"


def _aligned(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise ValueError(f"shapes differ: y_true {true.shape} vs y_pred {pred.shape}")
    if true.size == 0:
        raise ValueError("no values to compare")
    return true, pred


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error over all elements of two arrays of the same shape, in float64.

    The arrays are typically ``(windows, horizon, channels)``.

    >>> mse([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 5.0]])
    1.25
    """
    true, pred = _aligned(y_true, y_pred)
    return float(np.mean((pred - true) ** 2))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error over all elements, as :func:`mse`.

    >>> mae([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 5.0]])
    0.75
    """
    true, pred = _aligned(y_true, y_pred)
    return float(np.mean(np.abs(pred - true)))


class ErrorAccumulator:
    """Running MSE and MAE over windows that arrive in chunks.

    Every window must have the same shape ``(horizon, channels)``, so the running means equal
    the mean over windows of the per-window means, as in the literature.

    Examples
    --------
    >>> acc = ErrorAccumulator()
    >>> acc.update([[[1.0, 2.0]]], [[[1.0, 0.0]]])
    >>> acc.update([[[3.0, 4.0]]], [[[3.0, 5.0]]])
    >>> acc.n_windows, acc.mse, acc.mae
    (2, 1.25, 0.75)
    """

    def __init__(self) -> None:
        self._sum_sq = 0.0
        self._sum_abs = 0.0
        self._count = 0
        self._window_shape: tuple[int, ...] | None = None
        self.n_windows = 0

    def update(self, y_true: ArrayLike, y_pred: ArrayLike) -> None:
        """Add a chunk of windows, each array shaped ``(windows, horizon, channels)``."""
        true, pred = _aligned(y_true, y_pred)
        if true.ndim != 3:
            raise ValueError(f"expected (windows, horizon, channels), got shape {true.shape}")
        if self._window_shape is None:
            self._window_shape = true.shape[1:]
        elif true.shape[1:] != self._window_shape:
            raise ValueError(
                f"window shape {true.shape[1:]} differs from earlier windows {self._window_shape}"
            )
        err = pred - true
        self._sum_sq += float(np.sum(err**2))
        self._sum_abs += float(np.sum(np.abs(err)))
        self._count += err.size
        self.n_windows += true.shape[0]

    @property
    def mse(self) -> float:
        """Mean squared error of everything added so far."""
        if not self._count:
            raise ValueError("no windows were added")
        return self._sum_sq / self._count

    @property
    def mae(self) -> float:
        """Mean absolute error of everything added so far."""
        if not self._count:
            raise ValueError("no windows were added")
        return self._sum_abs / self._count


def error_metrics(actual: ArrayLike, forecast: ArrayLike) -> dict[str, Any]:
    """Number of points, MSE, MAE and MAPE (percent; ``None`` where an actual value is zero).

    Examples
    --------
    >>> m = error_metrics(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    >>> m["mse"], m["mae"], m["mape"]
    (0.125, 0.25, 25.0)
    >>> error_metrics(np.array([0.0, 2.0]), np.array([1.0, 2.0]))["mape_note"]
    'not defined: the actual values contain zeros'
    """
    true = np.asarray(actual, dtype=np.float64)
    pred = np.asarray(forecast, dtype=np.float64)
    result: dict[str, Any] = {"n_points": int(true.size), "mse": None, "mae": None, "mape": None}
    if not true.size:
        return result
    result["mse"], result["mae"] = mse(true, pred), mae(true, pred)
    if not (true == 0).any():
        result["mape"] = float(np.mean(np.abs((pred - true) / true)) * 100.0)
    else:
        result["mape_note"] = MAPE_UNDEFINED
    return result
