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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from darts import TimeSeries

__all__ = ["CyclePhase", "auto_cycle_length", "time_positions", "window_phases"]

_ORIGIN = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)
#: The longest cycle ``"auto"`` picks (one day of minutes).
MAX_AUTO_CYCLE = 1440


def fixed_step(freq: object) -> pd.Timedelta | None:
    """The length of one step of frequency ``freq``, or ``None`` if it varies (months...).

    Examples
    --------
    >>> fixed_step("15min"), fixed_step("MS")
    (Timedelta('0 days 00:15:00'), None)
    """
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (TypeError, ValueError):
        return None
    return step if step > pd.Timedelta(0) else None


def auto_cycle_length(freq: object) -> int | None:
    """The cycle ``cycle_length="auto"`` learns for data of frequency ``freq``.

    One day for data sampled more than once a day (24 steps for hourly data, 96 for
    15-minute, 144 for 10-minute data; up to a day of minutes), one week (7) for daily
    data; ``None`` (no cycle) for other frequencies, integer indexes (``freq`` an int) and
    steps that do not divide a day.

    Examples
    --------
    >>> [auto_cycle_length(f) for f in ("h", "15min", "10min", "D", "MS", 1, "7h")]
    [24, 96, 144, 7, None, None, None]
    """
    if freq is None or isinstance(freq, int | np.integer):
        return None
    step = fixed_step(freq)
    if step is None:
        return None
    if step == _DAY:
        return 7
    steps, rest = divmod(_DAY, step)
    return int(steps) if rest == pd.Timedelta(0) and 2 <= steps <= MAX_AUTO_CYCLE else None


def time_positions(index: pd.Index, freq: object = None) -> np.ndarray:
    """The number of steps from the origin to each time of ``index`` (int64).

    Examples
    --------
    >>> time_positions(pd.date_range("1970-01-02", periods=3, freq="h")).tolist()
    [24, 25, 26]
    >>> time_positions(pd.RangeIndex(10, 16, 2)).tolist()
    [5, 6, 7]

    ``freq`` gives the step of an index that does not carry one (times gathered from
    several series).
    """
    if isinstance(index, pd.RangeIndex):
        return np.asarray(index, dtype=np.int64) // index.step
    if not isinstance(index, pd.DatetimeIndex):
        if pd.api.types.is_integer_dtype(index):
            step = int(freq) if isinstance(freq, int | np.integer) and freq > 0 else 1
            return np.asarray(index, dtype=np.int64) // step
        raise ValueError(f"cycle_length needs a time or integer index, got {type(index).__name__}")
    freq = freq or index.freq or (pd.infer_freq(index) if len(index) >= 3 else None)
    step = fixed_step(freq)
    if step is None:
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


def window_phases(series: Sequence[TimeSeries], lookback: int, cycle_length: int) -> np.ndarray:
    """``(S,)``: the phase of the first of the last ``lookback`` steps of every series.

    What :class:`CyclePhase` gives darts' encoder at that step, computed for all the series
    at once (for forecasting without darts' models).
    """
    if not series:
        return np.zeros(0, dtype=np.int64)
    first = series[0].time_index
    times = [ts.time_index[-lookback] for ts in series]
    index = pd.DatetimeIndex(times) if isinstance(first, pd.DatetimeIndex) else pd.Index(times)
    freq = series[0].freq
    return time_positions(index, freq) % cycle_length
