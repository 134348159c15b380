"""Small synthetic files in the exact format of each benchmark file, quirks included.

For tests and examples that must run without the real files (which are large and not
committed): same file name, header, time format, line endings and column layout as the
published file, random-walk values, and any number of rows. The Weather file also gets the
real file's quirks: CRLF line endings, ``U+FFFD`` in the header, ``-9999`` sentinels, one
duplicated timestamp and one 100-minute gap.

Read them back with ``verify=False`` (their checksum and row count are not the published
ones), e.g. ``load_dataset("Weather", path=folder, verify=False)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cnforecast.datasets.registry import get_dataset_info


def _iso(times: pd.DatetimeIndex) -> list[str]:
    return list(times.strftime("%Y-%m-%d %H:%M:%S"))


def _unpadded(times: pd.DatetimeIndex) -> list[str]:
    """``1990/1/1 0:00``: the style of the bundle's exchange_rate.csv."""
    return [f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}" for t in times]


@dataclass(frozen=True)
class _Format:
    start: str
    format_times: Callable[[pd.DatetimeIndex], list[str]]
    decimals: int
    line_end: str = "\n"


_FORMATS = {
    "ETTh1": _Format("2016-07-01 00:00:00", _iso, 3),
    "ETTh2": _Format("2016-07-01 00:00:00", _iso, 3),
    "ETTm1": _Format("2016-07-01 00:00:00", _iso, 3),
    "ETTm2": _Format("2016-07-01 00:00:00", _iso, 3),
    "Weather": _Format("2020-01-01 00:10:00", _iso, 2, "\r\n"),
    "Electricity": _Format("2016-07-01 02:00:00", _iso, 1),
    "Traffic": _Format("2016-07-01 02:00:00", _iso, 4),
    "Exchange": _Format("1990-01-01 00:00:00", _unpadded, 6),
}

WEATHER_SENTINEL = -9999.0
"""Missing-value marker of the Weather file, kept as a value by the literature."""


@dataclass(frozen=True)
class WeatherQuirks:
    """Where :func:`write_synthetic_dataset` put the Weather quirks (data-row positions)."""

    duplicate_row: int
    """This row repeats the timestamp and values of the row before it."""
    gap_row: int
    """This row comes 100 minutes after the row before it, instead of 10."""
    sentinel_rows: tuple[int, ...]
    """Rows holding -9999 in the ``OT`` column."""


def weather_quirks(n_rows: int) -> WeatherQuirks:
    """Positions of the quirks in a synthetic Weather file of ``n_rows`` rows (at least 10)."""
    if n_rows < 10:
        raise ValueError(f"a synthetic Weather file needs at least 10 rows, got {n_rows}")
    duplicate = n_rows * 36 // 100
    gap = n_rows * 41 // 100 + 1
    return WeatherQuirks(
        duplicate_row=duplicate, gap_row=gap, sentinel_rows=(n_rows // 5, n_rows * 3 // 4)
    )


def write_synthetic_dataset(
    name: str, directory: str | os.PathLike[str], n_rows: int, *, seed: int = 0
) -> Path:
    """Write a synthetic file in the format of data set ``name``.

    Parameters
    ----------
    name
        Registered data-set name (any case).
    directory
        Folder to write ``<file_name>`` into (created when needed).
    n_rows
        Number of data rows.
    seed
        Seed of the random values.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from cnforecast.datasets import load_dataset
    >>> folder = tempfile.TemporaryDirectory()
    >>> file = write_synthetic_dataset("Exchange", folder.name, 30)
    >>> file.name, load_dataset("Exchange", path=folder.name, verify=False).shape
    ('exchange_rate.csv', (30, 8, 1))
    >>> folder.cleanup()
    """
    info = get_dataset_info(name)
    fmt = _FORMATS[info.name]
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    rng = np.random.default_rng(seed)
    values = 10.0 + np.cumsum(rng.normal(0.0, 0.5, size=(n_rows, info.n_series)), axis=0)
    times = pd.date_range(fmt.start, periods=n_rows, freq=info.frequency)
    header = [info.time_column, *info.columns]
    if info.name == "Weather":
        times, values = _weather_quirks(times, values)
        damaged = {original: broken for broken, original in info.header_repairs}
        header = [damaged.get(column, column) for column in header]
    frame = pd.DataFrame(np.round(values, fmt.decimals), columns=header[1:])
    frame.insert(0, header[0], fmt.format_times(times))
    path = Path(directory) / info.file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator=fmt.line_end, encoding="utf-8")
    return path


def _weather_quirks(
    times: pd.DatetimeIndex, values: np.ndarray
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    quirks = weather_quirks(len(times))
    step = pd.Timedelta(minutes=10)
    offsets = np.zeros(len(times), dtype="timedelta64[ns]")
    offsets[quirks.duplicate_row :] -= step.to_timedelta64()
    offsets[quirks.gap_row :] += 9 * step.to_timedelta64()
    values = values.copy()
    values[quirks.duplicate_row] = values[quirks.duplicate_row - 1]
    values[list(quirks.sentinel_rows), -1] = WEATHER_SENTINEL
    return times + offsets, values
