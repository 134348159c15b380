"""Reading one benchmark CSV file into a validated DataFrame or a darts TimeSeries.

Every problem is reported as a :class:`MalformedDatasetError` that names the file and what
is wrong with it: not CSV, no rows, no time column, wrong columns, a value that is not a
number, a missing value (typically a truncated last line), an unreadable timestamp, or
(for a data set indexed by time) timestamps off its regular grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from darts import TimeSeries

from cnforecast.datasets.errors import MalformedDatasetError
from cnforecast.datasets.registry import DatasetInfo


def read_frame(path: Path, info: DatasetInfo) -> pd.DataFrame:
    """Read and validate ``path`` as data set ``info``.

    Returns
    -------
    pandas.DataFrame
        Every row of the file in file order (duplicated timestamps included) with a
        ``RangeIndex``: the time column parsed to ``datetime64``, then the value columns in
        file order as ``float64``, header names repaired (``info.header_repairs``).
    """
    try:
        frame = pd.read_csv(path, encoding="utf-8", encoding_errors="replace", low_memory=False)
    except pd.errors.EmptyDataError:
        raise MalformedDatasetError(path, "the file is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise MalformedDatasetError(path, f"not a well-formed CSV file ({exc})") from None
    repairs = dict(info.header_repairs)
    frame.columns = [repairs.get(str(column), str(column)) for column in frame.columns]
    _check_columns(path, info, list(frame.columns))
    if frame.empty:
        raise MalformedDatasetError(path, "the file has a header but no data rows")
    values = _numeric_values(path, frame, info.columns)
    times = _parse_times(path, frame[info.time_column])
    result = pd.DataFrame(values, columns=list(info.columns))
    result.insert(0, info.time_column, times)
    return result


def _check_columns(path: Path, info: DatasetInfo, header: list[str]) -> None:
    if info.time_column not in header:
        raise MalformedDatasetError(
            path,
            f"no time column {info.time_column!r}; the header is {_short(header)}",
        )
    expected = [info.time_column, *info.columns]
    if header == expected:
        return
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    details = []
    if missing:
        details.append(f"missing {_short(missing)}")
    if unexpected:
        details.append(f"unexpected {_short(unexpected)}")
    if not details:
        details.append(f"columns out of order: {_short(header)}")
    raise MalformedDatasetError(
        path,
        f"wrong columns for data set {info.name} (expected {info.time_column!r} then "
        f"{info.n_series} value columns {_short(list(info.columns))}): {'; '.join(details)}",
    )


def _numeric_values(path: Path, frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    values = np.empty((len(frame), len(columns)), dtype=np.float64)
    for position, column in enumerate(columns):
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values[:, position] = series.to_numpy(np.float64, na_value=np.nan)
            continue
        coerced = pd.to_numeric(series, errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
        if bad.size:
            row = int(bad[0])
            raise MalformedDatasetError(
                path,
                f"column {column!r} holds a value that is not a number, {series.iloc[row]!r}, "
                f"at {_data_row(row)}",
            )
        values[:, position] = coerced.to_numpy(np.float64, na_value=np.nan)
    missing_rows = np.flatnonzero(np.isnan(values).any(axis=1))
    if missing_rows.size:
        row = int(missing_rows[0])
        empty = [columns[i] for i in np.flatnonzero(np.isnan(values[row]))]
        if row == len(values) - 1:
            where = "the last row is incomplete: the file looks truncated"
        else:
            where = f"{missing_rows.size} row(s) with missing values in all"
        raise MalformedDatasetError(
            path,
            f"missing values at {_data_row(row)} in {_short(empty)}; {where}",
        )
    return values


def _parse_times(path: Path, column: pd.Series) -> pd.DatetimeIndex:
    try:
        times = pd.to_datetime(column)
    except (ValueError, TypeError):
        try:
            times = pd.to_datetime(column, format="mixed")
        except (ValueError, TypeError):
            times = pd.to_datetime(column, format="mixed", errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise MalformedDatasetError(
            path,
            f"unreadable timestamp {column.iloc[row]!r} in column {column.name!r} at "
            f"{_data_row(row)}",
        )
    return pd.DatetimeIndex(times)


def frame_to_series(
    path: Path, frame: pd.DataFrame, info: DatasetInfo, dtype: type[np.floating] = np.float32
) -> TimeSeries:
    """Turn a frame from :func:`read_frame` into a TimeSeries, keeping every row.

    Data sets with ``info.time_index == "datetime"`` are indexed by their timestamps, which
    must then lie on a regular grid at ``info.frequency``; those with ``"range"`` are indexed
    by row position 0 .. n-1.
    """
    values = frame[list(info.columns)].to_numpy(dtype=dtype)
    if info.time_index == "range":
        return TimeSeries.from_values(values, columns=list(info.columns), copy=False)
    times = pd.DatetimeIndex(frame[info.time_column])
    grid = pd.date_range(start=times[0], periods=len(times), freq=info.frequency)
    off_grid = np.flatnonzero(times != grid)
    if off_grid.size:
        row = int(off_grid[0])
        raise MalformedDatasetError(
            path,
            f"timestamps are not a regular {info.frequency} grid: data row {row} holds "
            f"{times[row]} after {times[row - 1]}, where {grid[row]} was expected",
        )
    return TimeSeries.from_times_and_values(
        grid, values, freq=info.frequency, columns=list(info.columns), copy=False
    )


def _data_row(row: int) -> str:
    """Where data row ``row`` (0-based, after the header) is in the file, for a message."""
    return f"data row {row} (line {row + 2} of the file)"


def _short(names: list[str], limit: int = 8) -> str:
    """A list of names for a message, shortened when long."""
    shown = ", ".join(repr(name) for name in names[:limit])
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return f"[{shown}{more}]"
