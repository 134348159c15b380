"""The phase of every time step in a cycle: the darts encoder behind ``cycle_length``.

A :class:`CyclePhase` is a darts custom index encoder (``add_encoders={"custom": {"past":
[CyclePhase(24)]}}``): it maps a time index to each step's position in a cycle of ``W``
steps, counted from a fixed origin (1970-01-01 00:00 in the series' wall-clock time, or 0
of an integer index), so that the same hour of the day (for ``W = 24`` on hourly data) has
the same phase in every series, in training and in prediction. darts then hands it to the
network as the last past-covariate component, from which
:class:`~cnforecast.models.circuitnet.CircuitNetModel` reads each window's phase.

Supported indexes: integer indexes, and time indexes of a fixed step (seconds, minutes,
hours, days; with or without a time zone, whose wall clock is used). Months, quarters,
years, weeks and business days have no fixed step: ``cycle_length`` refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CyclePhase", "time_positions"]

_ORIGIN = pd.Timestamp("1970-01-01")


def time_positions(index: pd.Index) -> np.ndarray:
    """The number of steps from the origin to each time of ``index`` (int64).

    Examples
    --------
    >>> time_positions(pd.date_range("1970-01-02", periods=3, freq="h")).tolist()
    [24, 25, 26]
    >>> time_positions(pd.RangeIndex(10, 16, 2)).tolist()
    [5, 6, 7]
    """
    if isinstance(index, pd.RangeIndex):
        return np.asarray(index, dtype=np.int64) // index.step
    if not isinstance(index, pd.DatetimeIndex):
        if pd.api.types.is_integer_dtype(index):
            return np.asarray(index, dtype=np.int64)
        raise ValueError(f"cycle_length needs a time or integer index, got {type(index).__name__}")
    freq = index.freq or (pd.infer_freq(index) if len(index) >= 3 else None)
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (TypeError, ValueError):
        step = None
    if step is None or step <= pd.Timedelta(0):
        raise ValueError(
            f"cycle_length needs a series with a fixed time step (seconds, minutes, hours or "
            f"days) or an integer index; this series has frequency {freq!r}. Drop "
            "cycle_length for it."
        )
    wall_clock = index.tz_localize(None) if index.tz is not None else index
    return np.asarray((wall_clock - _ORIGIN) // step, dtype=np.int64)


@dataclass(frozen=True)
class CyclePhase:
    """Each step's position in a cycle of ``cycle_length`` steps: ``0 .. W - 1``.

    Examples
    --------
    >>> CyclePhase(24)(pd.date_range("2024-01-01 22:00", periods=4, freq="h")).tolist()
    [22.0, 23.0, 0.0, 1.0]
    """

    cycle_length: int

    def __call__(self, index: pd.Index) -> np.ndarray:
        return (time_positions(index) % self.cycle_length).astype(np.float64)
