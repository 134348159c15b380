"""Read CSV or Parquet tables into darts time series, with validation and clear errors.

A table has one time column, one or more target columns, optional past and future covariate
columns, and optionally an id column that holds many series in one long table (rows of one
series need not be adjacent, but within a series they must be in time order). Values become
``float32`` :class:`~darts.TimeSeries`.

Future covariates (values known in advance, such as calendar features or planned prices) may
extend past the end of the targets: trailing rows whose target cells are all empty are
"future rows", used only for the future covariates. Past covariates are cut at the end of the
targets.

Everything a user can get wrong raises :class:`~cnforecast.jobs.errors.DataValidationError`
with the column, series and row (1-based data row, header not counted) concerned.

Time zones
    Times are either all without a UTC offset (naive) or all with one; a column that mixes
    the two is refused. Times with one offset or a named zone keep it; times with different
    offsets (``+01:00`` and ``+02:00`` across a daylight-saving change) are converted to UTC.
    darts series carry no time zone, so inside a series the times are UTC for fixed steps
    (hours, minutes) and wall-clock times for calendar steps (days, weeks, months); the
    bundle's :attr:`SeriesBundle.tz` keeps the zone, :func:`restore_time_zone` puts it back
    on forecast times, and :func:`check_time_zone` compares it with a model's.

Infinite values (``inf`` in a CSV, or numbers beyond the 32-bit float range) are refused with
their count and first row, before any scaling or training.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from darts import TimeSeries

from cnforecast.jobs.errors import DataValidationError, JobError
from cnforecast.jobs.io import table_format

logger = logging.getLogger(__name__)

#: How missing values are handled (``--fill``): ``none`` reports them as an error;
#: ``ffill`` carries the last value forward (leading gaps take the first value);
#: ``interpolate`` fills linearly (edges take the nearest value); ``zero`` fills with 0.
FILL_METHODS: tuple[str, ...] = ("none", "ffill", "interpolate", "zero")
FillMethod = Literal["none", "ffill", "interpolate", "zero"]


@dataclass(frozen=True)
class ColumnSpec:
    """Which columns of a table play which role.

    Parameters
    ----------
    time
        The time column: dates/times, or integers for a plain step index.
    targets
        The columns to forecast.
    past_covariates
        Columns known only up to the present.
    future_covariates
        Columns known in advance (also for the forecast horizon).
    id
        Column naming the series in a long table with many series; ``None`` for one series.

    Examples
    --------
    >>> ColumnSpec(time="date", targets=("load",), id="meter").all_columns
    ('meter', 'date', 'load')
    """

    time: str
    targets: tuple[str, ...]
    past_covariates: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    id: str | None = None

    def __post_init__(self) -> None:
        for name in ("targets", "past_covariates", "future_covariates"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))
        if not self.time:
            raise DataValidationError("no time column given (--time-col)")
        if not self.targets:
            raise DataValidationError("no target column given (--target-cols)")
        seen: dict[str, str] = {}
        roles = [("id", [self.id] if self.id else []), ("time", [self.time])]
        roles += [
            ("target", self.targets),
            ("past covariate", self.past_covariates),
            ("future covariate", self.future_covariates),
        ]
        for role, names in roles:
            for name in names:
                if name in seen:
                    raise DataValidationError(
                        f"column {name!r} is given twice (as {seen[name]} and as {role}); "
                        "each column can have one role only"
                    )
                seen[name] = role

    @property
    def value_columns(self) -> tuple[str, ...]:
        """Targets, past covariates and future covariates, in that order."""
        return self.targets + self.past_covariates + self.future_covariates

    @property
    def all_columns(self) -> tuple[str, ...]:
        """Every column the spec names: id (if any), time, then the value columns."""
        return ((self.id,) if self.id else ()) + (self.time, *self.value_columns)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``columns`` record of a model manifest)."""
        return {
            "time": self.time,
            "targets": list(self.targets),
            "past_covariates": list(self.past_covariates),
            "future_covariates": list(self.future_covariates),
            "id": self.id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            time=data["time"],
            targets=tuple(data["targets"]),
            past_covariates=tuple(data.get("past_covariates") or ()),
            future_covariates=tuple(data.get("future_covariates") or ()),
            id=data.get("id"),
        )


@dataclass
class SeriesBundle:
    """The series read from one table: targets and covariates, aligned by position.

    Attributes
    ----------
    targets
        One target series per id (one series for a table without id column).
    past_covariates, future_covariates
        One covariate series per target series, or ``None`` if the spec has no such columns.
    ids
        The id of each series (``None`` for a table without id column).
    freq
        The common frequency: a pandas frequency string (``"h"``) or an integer step.
    columns
        The column roles the bundle was read with.
    """

    targets: list[TimeSeries]
    past_covariates: list[TimeSeries] | None
    future_covariates: list[TimeSeries] | None
    ids: list[Hashable | None]
    freq: str | int
    columns: ColumnSpec
    source: str = "data"
    tz: str | None = None

    def __len__(self) -> int:
        return len(self.targets)

    @classmethod
    def concat(cls, bundles: Sequence[SeriesBundle]) -> SeriesBundle:
        """One bundle holding the series of several (same columns and frequency)."""
        if not bundles:
            raise ValueError("no bundles to concatenate")
        first = bundles[0]

        def join(attr: str) -> list[TimeSeries] | None:
            if getattr(first, attr) is None:
                return None
            return [s for b in bundles for s in getattr(b, attr)]

        return cls(
            targets=[s for b in bundles for s in b.targets],
            past_covariates=join("past_covariates"),
            future_covariates=join("future_covariates"),
            ids=[i for b in bundles for i in b.ids],
            freq=first.freq,
            columns=first.columns,
            source="+".join(b.source for b in bundles),
            tz=first.tz,
        )


def read_table(path: str | os.PathLike[str], columns: ColumnSpec | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet`` or ``.pq`` file.
    columns
        If given, its id column is read as text, so ids such as ``007`` keep their zeros.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"data file {str(path)!r} does not exist or is not a file")
    try:
        fmt = table_format(path)
    except JobError as exc:
        raise DataValidationError(str(exc)) from None
    try:
        if fmt == "csv":
            dtype = {columns.id: str} if columns is not None and columns.id else None
            df = pd.read_csv(path, dtype=dtype)
        else:
            df = pd.read_parquet(path)
    except (ValueError, OSError) as exc:  # parser errors, empty files, bad encodings, bad parquet
        raise DataValidationError(f"cannot read {str(path)!r} as {fmt}: {exc}") from None
    if df.empty:
        raise DataValidationError(f"{str(path)!r} has no data rows")
    return df


def load_series(
    path: str | os.PathLike[str],
    columns: ColumnSpec,
    fill: FillMethod = "none",
    min_length: int = 1,
    min_length_reason: str = "",
) -> SeriesBundle:
    """Read a table file and turn it into series: :func:`read_table` + :func:`frame_to_series`."""
    df = read_table(path, columns)
    return frame_to_series(
        df,
        columns,
        fill=fill,
        min_length=min_length,
        min_length_reason=min_length_reason,
        source=str(path),
    )


def frame_to_series(
    df: pd.DataFrame,
    columns: ColumnSpec,
    fill: FillMethod = "none",
    min_length: int = 1,
    min_length_reason: str = "",
    source: str = "data",
) -> SeriesBundle:
    """Validate a table and turn it into ``float32`` darts series.

    Parameters
    ----------
    df
        The table, one row per time step (and series, with an id column).
    columns
        Which columns are time, targets, covariates and id.
    fill
        How to handle missing values, one of :data:`FILL_METHODS`.
    min_length
        The fewest time steps (of the targets) each series must have.
    min_length_reason
        Why, for the error message (e.g. ``"input_chunk_length 96 + output_chunk_length 24"``).
    source
        The name of the table in error messages (usually its file name).

    Returns
    -------
    SeriesBundle

    Raises
    ------
    DataValidationError
        For a missing column (with close matches), a non-numeric value, a bad, unsorted or
        duplicated time, an irregular or inconsistent frequency, missing values (with
        ``fill="none"``), or a series shorter than ``min_length``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=4, freq="h"),
    ...                    "load": [1.0, 2.0, None, 4.0]})
    >>> spec = ColumnSpec(time="time", targets=("load",))
    >>> bundle = frame_to_series(df, spec, fill="interpolate")
    >>> bundle.freq, bundle.targets[0].values().ravel().tolist()
    ('h', [1.0, 2.0, 3.0, 4.0])
    """
    if fill not in FILL_METHODS:
        raise DataValidationError(f"unknown fill method {fill!r}; choose one of {FILL_METHODS}")
    _check_columns(df, columns, source)
    df = df.reset_index(drop=True)
    times, tz = _parse_times(df[columns.time], columns.time, source)
    values = {c: _parse_numeric(df[c], c, source) for c in columns.value_columns}
    _check_finite(values, df, columns, times, source)

    if columns.id:
        ids = df[columns.id]
        missing = ids.isna()
        if missing.any():
            row = int(np.flatnonzero(missing.to_numpy())[0]) + 1
            raise DataValidationError(f"{source}: id column {columns.id!r} is empty at row {row}")
        groups = list(df.groupby(columns.id, sort=False).indices.items())
    else:
        groups = [(None, np.arange(len(df)))]

    out_targets: list[TimeSeries] = []
    out_past: list[TimeSeries] = []
    out_future: list[TimeSeries] = []
    out_ids: list[Hashable | None] = []
    common_freq: str | int | None = None
    first_series_with_freq: Hashable | None = None
    clock = _sortable(times)
    uniform = _uniform_freq(groups, clock, times, tz, source, columns)
    index_cache: dict[tuple[Any, int], pd.Index] = {}
    # one component index per role, shared by every series (darts builds one per list)
    names = {
        role: pd.Index(list(getattr(columns, role)))
        for role in ("targets", "past_covariates", "future_covariates")
    }
    for key, rows in groups:
        rows = np.asarray(rows)
        label = f"{source}" + (f", series {key!r}" if columns.id else "")
        if uniform is not None:  # checked for the whole table at once
            freq = uniform
            index = _regular_index(clock[rows], freq, index_cache)
        else:
            t = times.iloc[rows]
            _check_order(t, rows, label)
            freq = _infer_freq(t, rows, label, converted=tz == _CONVERTED_UTC)
            index = _make_index(_series_clock(t, freq), freq)
        if common_freq is None:
            common_freq, first_series_with_freq = freq, key
        elif freq is not None and freq != common_freq:
            raise DataValidationError(
                f"{label}: frequency {freq!r} differs from {common_freq!r} of series "
                f"{first_series_with_freq!r}; all series in a table must share one frequency"
            )
        n_target = _target_length(values, columns, rows)
        if n_target < min_length:
            why = f" ({min_length_reason})" if min_length_reason else ""
            raise DataValidationError(
                f"{label}: the series has {n_target} time steps with target values, but at "
                f"least {min_length} are needed{why}"
            )
        target_index = index if n_target == len(index) else index[:n_target]
        target_block = _block(values, columns.targets, rows[:n_target], fill, label)
        out_targets.append(_make_series(target_index, target_block, names["targets"]))
        if columns.past_covariates:
            block = _block(values, columns.past_covariates, rows[:n_target], fill, label)
            out_past.append(_make_series(target_index, block, names["past_covariates"]))
        if columns.future_covariates:
            block = _block(values, columns.future_covariates, rows, fill, label)
            out_future.append(_make_series(index, block, names["future_covariates"]))
        out_ids.append(key)

    if common_freq is None:  # every series has a single row: min_length < 2
        raise DataValidationError(f"{source}: cannot infer a frequency from one time step")
    return SeriesBundle(
        targets=out_targets,
        past_covariates=out_past if columns.past_covariates else None,
        future_covariates=out_future if columns.future_covariates else None,
        ids=out_ids,
        freq=common_freq,
        columns=columns,
        source=source,
        tz=None if tz is None else "UTC" if tz == _CONVERTED_UTC else tz,
    )


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ``"; did you mean ...?"`` hint with the close matches of ``name``, or ``""``.

    Examples
    --------
    >>> suggest("tempreature", ["temperature", "load"])
    "; did you mean 'temperature'?"
    """
    matches = difflib.get_close_matches(name, [str(c) for c in candidates], n=3, cutoff=0.6)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"


def _check_columns(df: pd.DataFrame, columns: ColumnSpec, source: str) -> None:
    available = [str(c) for c in df.columns]
    problems = [
        f"column {name!r} not found{suggest(name, available)}"
        for name in columns.all_columns
        if name not in df.columns
    ]
    if problems:
        raise DataValidationError(
            f"{source}: {'; '.join(problems)} (available columns: {', '.join(available)})"
        )


def _first_row(mask: pd.Series | np.ndarray) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


#: Marks times converted to UTC because their offsets differed (reported as ``"UTC"``).
_CONVERTED_UTC = "UTC (converted)"
#: A UTC offset or ``Z`` after a clock time: ``12:00+01:00``, ``12:00:00.5Z``, ``12:00 -0500``.
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")


def _parse_times(raw: pd.Series, name: str, source: str) -> tuple[pd.Series, str | None]:
    """Parse the time column; return the times and their time zone (``None`` if naive)."""
    if raw.isna().any():
        raise DataValidationError(
            f"{source}: time column {name!r} is empty at row {_first_row(raw.isna())}"
        )
    if pd.api.types.is_datetime64_any_dtype(raw):
        tz = getattr(raw.dtype, "tz", None)
        return raw, None if tz is None else str(tz)
    if pd.api.types.is_integer_dtype(raw):
        return raw.astype("int64"), None
    if pd.api.types.is_float_dtype(raw):
        raise DataValidationError(
            f"{source}: time column {name!r} holds decimal numbers; use dates/times or integers"
        )
    converted = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format" for mixed formats
        try:
            parsed = pd.to_datetime(raw, errors="coerce")
        except ValueError:  # pandas refuses different UTC offsets in one column
            parsed, converted = None, True
    if converted or not pd.api.types.is_datetime64_any_dtype(parsed) or parsed.isna().any():
        _check_offsets(raw, name, source)  # times with and without offset: say so
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if converted or not pd.api.types.is_datetime64_any_dtype(parsed):
                parsed = pd.to_datetime(raw, errors="coerce", utc=True)
                converted = True
    bad = parsed.isna()
    if bad.any():
        row = _first_row(bad)
        raise DataValidationError(
            f"{source}: time column {name!r} has a value that is not a date/time at row {row}: "
            f"{raw.iloc[row - 1]!r}"
        )
    tz = getattr(parsed.dtype, "tz", None)
    if converted:
        logger.info("%s: the times have different UTC offsets; converted them to UTC", source)
        return parsed, _CONVERTED_UTC
    return parsed, None if tz is None else str(tz)


def _check_offsets(raw: pd.Series, name: str, source: str) -> None:
    """Refuse a time column that mixes times with and without a UTC offset."""
    text = raw.astype(str).str.strip()
    aware = text.str.contains(_OFFSET, regex=True).to_numpy()
    if aware.any() and not aware.all():
        with_row, without_row = _first_row(aware), _first_row(~aware)
        raise DataValidationError(
            f"{source}: time column {name!r} mixes times with a UTC offset (row {with_row}: "
            f"{text.iloc[with_row - 1]!r}) and without one (row {without_row}: "
            f"{text.iloc[without_row - 1]!r}); give every time an offset, or none"
        )


def _is_fixed_step(freq: str | int | None) -> bool:
    """True for steps of fixed length (hours, minutes...), false for calendar steps (days...)."""
    if freq is None or isinstance(freq, int):
        return True
    offset = pd.tseries.frequencies.to_offset(freq)
    return isinstance(offset, pd.offsets.Tick) and not isinstance(offset, pd.offsets.Day)


def _series_clock(t: pd.Series, freq: str | int | None) -> pd.Series:
    """Naive times for darts: UTC for fixed steps, the wall clock for calendar steps."""
    if getattr(t.dtype, "tz", None) is None:
        return t
    if _is_fixed_step(freq):
        return t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.dt.tz_localize(None)


def restore_time_zone(index: pd.Index, tz: str | None, freq: str | int | None) -> pd.Index:
    """Forecast times in the time zone ``tz`` of the data (inverse of the series clock).

    Examples
    --------
    >>> index = pd.date_range("2024-03-30 23:00", periods=3, freq="h")
    >>> [str(t) for t in restore_time_zone(index, "Europe/Berlin", "h")]
    ['2024-03-31 00:00:00+01:00', '2024-03-31 01:00:00+01:00', '2024-03-31 03:00:00+02:00']
    """
    if tz is None or not isinstance(index, pd.DatetimeIndex) or index.tz is not None:
        return index
    if _is_fixed_step(freq):
        return index.tz_localize("UTC").tz_convert(tz)
    return index.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def check_time_zone(trained_tz: str | None, bundle: SeriesBundle, model: str = "the model") -> None:
    """Refuse data whose times are naive where the model's were aware, or the other way round.

    Data in another zone than the model's is accepted (forecasts keep the data's zone).
    """
    if (trained_tz is None) == (bundle.tz is None):
        if trained_tz != bundle.tz:
            logger.info(
                "%s: times in %s, the model was trained on %s; forecasts keep %s",
                bundle.source,
                bundle.tz,
                trained_tz,
                bundle.tz,
            )
        return
    if trained_tz is None:
        raise DataValidationError(
            f"{bundle.source}: the times have a time zone ({bundle.tz}), but {model} was "
            "trained on times without one; give the times without UTC offset (as in the "
            "training data), or train on times with a time zone"
        )
    raise DataValidationError(
        f"{bundle.source}: the times have no time zone, but {model} was trained on times "
        f"in {trained_tz}; give the times with their UTC offset (e.g. 2024-01-01 "
        "00:00:00+00:00)"
    )


def _check_finite(
    values: dict[str, np.ndarray],
    df: pd.DataFrame,
    columns: ColumnSpec,
    times: pd.Series,
    source: str,
) -> None:
    """Refuse infinite values and values beyond the 32-bit float range, with count and row."""
    limit = float(np.finfo(np.float32).max)
    for name, column in values.items():
        infinite = np.isinf(column)
        too_large = ~infinite & (np.abs(np.nan_to_num(column)) > limit)
        for mask, what, advice in (
            (infinite, "infinite value(s)", "remove them or replace them with numbers"),
            (
                too_large,
                f"value(s) beyond the 32-bit float range (±{limit:.3g})",
                "rescale the column",
            ),
        ):
            if not mask.any():
                continue
            row = _first_row(mask)
            where = f"row {row}, time {times.iloc[row - 1]}"
            if columns.id:
                where += f", series {df[columns.id].iloc[row - 1]!r}"
            raise DataValidationError(
                f"{source}: column {name!r} has {int(mask.sum())} {what}, the first at "
                f"{where}; {advice}"
            )


def _parse_numeric(raw: pd.Series, name: str, source: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=np.float64, na_value=np.nan)
    parsed = pd.to_numeric(raw, errors="coerce")
    bad = parsed.isna() & raw.notna()
    if bad.any():
        row = _first_row(bad)
        raise DataValidationError(
            f"{source}: column {name!r} has a non-numeric value at row {row}: {raw.iloc[row - 1]!r}"
        )
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_order(t: pd.Series, rows: np.ndarray, label: str) -> None:
    if len(t) < 2:
        return
    arr = _sortable(t)
    prev, nxt = arr[:-1], arr[1:]
    dup = np.flatnonzero(nxt == prev)
    back = np.flatnonzero(nxt < prev)
    if dup.size and (not back.size or dup[0] < back[0]):
        i = dup[0]
        raise DataValidationError(
            f"{label}: duplicated time {t.iloc[i]} at rows {rows[i] + 1} and {rows[i + 1] + 1}; "
            "each time step must appear once per series"
        )
    if back.size:
        i = back[0]
        raise DataValidationError(
            f"{label}: times are not in increasing order: row {rows[i + 1] + 1} "
            f"({t.iloc[i + 1]}) comes after row {rows[i] + 1} ({t.iloc[i]}); sort the table "
            "by id and time"
        )


def _sortable(t: pd.Series) -> np.ndarray:
    """The times as a numpy array that compares like the instants (UTC for aware times)."""
    if getattr(t.dtype, "tz", None) is not None:
        return t.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return t.to_numpy()


def _infer_freq(
    t: pd.Series, rows: np.ndarray, label: str, converted: bool = False
) -> str | int | None:
    """The frequency of a sorted, duplicate-free time column; ``None`` for a single row."""
    if len(t) < 2:
        return None
    if pd.api.types.is_integer_dtype(t):
        steps = np.diff(t.to_numpy())
        if (steps == steps[0]).all():
            return int(steps[0])
        return _irregular(t, rows, label, steps)
    index = pd.DatetimeIndex(t)
    freq: str | None
    if len(index) == 2:
        freq = pd.tseries.frequencies.to_offset(index[1] - index[0]).freqstr
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
            inferred = pd.infer_freq(index)
        freq = getattr(inferred, "freqstr", inferred)
    if freq is None:
        return _irregular(t, rows, label, np.diff(_sortable(t)), converted)
    return str(freq)


def _irregular(
    t: pd.Series, rows: np.ndarray, label: str, steps: np.ndarray, converted: bool = False
) -> None:
    values, counts = np.unique(steps, return_counts=True)
    usual = values[np.argmax(counts)]
    i = int(np.flatnonzero(steps != usual)[0])

    def fmt(step: Any) -> str:
        return str(pd.Timedelta(step)) if isinstance(step, np.timedelta64) else str(step)

    raise DataValidationError(
        f"{label}: irregular time steps: most steps are {fmt(usual)}, but row {rows[i + 1] + 1} "
        f"({t.iloc[i + 1]}) follows row {rows[i] + 1} ({t.iloc[i]}) after {fmt(steps[i])}. "
        "The series needs one row per time step (missing steps can be added as rows with "
        "empty values and filled with --fill)"
        + (
            ". The times were converted to UTC because their UTC offsets differ (a "
            "daylight-saving change?); for daily or longer steps give the times without "
            "offsets, or all in one offset"
            if converted
            else ""
        )
    )


def _target_length(values: dict[str, np.ndarray], columns: ColumnSpec, rows: np.ndarray) -> int:
    """Rows up to the last one with a target value (only future covariates may go further)."""
    if not columns.future_covariates:
        return len(rows)
    has_target = np.zeros(len(rows), dtype=bool)
    for name in columns.targets:
        has_target |= ~np.isnan(values[name][rows])
    present = np.flatnonzero(has_target)
    return int(present[-1]) + 1 if present.size else 0


def _block(
    values: dict[str, np.ndarray],
    names: Sequence[str],
    rows: np.ndarray,
    fill: FillMethod,
    label: str,
) -> np.ndarray:
    block = np.column_stack([values[name][rows] for name in names])
    missing = np.isnan(block)
    if not missing.any():
        return block
    if fill == "none":
        col = int(np.flatnonzero(missing.any(axis=0))[0])
        row = rows[int(np.flatnonzero(missing[:, col])[0])] + 1
        count = int(missing[:, col].sum())
        raise DataValidationError(
            f"{label}: column {names[col]!r} has {count} missing value(s), the first at row "
            f"{row}; fill them in the data or pass --fill ffill|interpolate|zero"
        )
    frame = pd.DataFrame(block)
    if fill == "ffill":
        frame = frame.ffill().bfill()
    elif fill == "interpolate":
        frame = frame.interpolate(method="linear", limit_direction="both")
    else:
        frame = frame.fillna(0.0)
    still = frame.isna().all(axis=0).to_numpy()
    if still.any():
        raise DataValidationError(
            f"{label}: column {names[int(np.flatnonzero(still)[0])]!r} has no values at all"
        )
    logger.info("%s: filled %d missing value(s) with %r", label, int(missing.sum()), fill)
    return frame.to_numpy()


def _make_index(t: pd.Series, freq: str | int | None) -> pd.Index:
    """The darts time index of one series' (naive) times."""
    if pd.api.types.is_integer_dtype(t):
        start, step = int(t.iloc[0]), int(freq or 1)
        return pd.RangeIndex(start, start + step * len(t), step)
    return pd.DatetimeIndex(t.to_numpy(), freq=freq)


def _regular_index(
    clock: np.ndarray, freq: str | int, cache: dict[tuple[Any, int], pd.Index]
) -> pd.Index:
    """The index of a series known to be regular; series with the same span share one."""
    key = (clock[0], len(clock))
    index = cache.get(key)
    if index is None:
        if isinstance(freq, int):
            start = int(clock[0])
            index = pd.RangeIndex(start, start + freq * len(clock), freq)
        else:
            index = pd.date_range(start=clock[0], periods=len(clock), freq=freq)
        cache[key] = index
    return index


def _uniform_freq(
    groups: Sequence[tuple[Hashable, np.ndarray]],
    clock: np.ndarray,
    times: pd.Series,
    tz: str | None,
    source: str,
    columns: ColumnSpec,
) -> str | int | None:
    """The frequency of a table whose series all step by one fixed amount, else ``None``.

    Checks order, duplicates and regularity of every series at once (a few array
    operations instead of a few per series). ``None`` sends the table through the checks
    series by series, which also word the errors; so does any calendar frequency whose
    steps vary in length (months) or depend on the time zone (days in a zone).
    """
    if not groups or any(len(rows) < 2 for _, rows in groups):
        return None
    order = np.concatenate([np.asarray(rows) for _, rows in groups])
    starts = np.cumsum([0] + [len(rows) for _, rows in groups])[:-1]
    values = clock[order]
    steps = values[1:] - values[:-1]
    inside = np.ones(len(order) - 1, dtype=bool)
    inside[starts[1:] - 1] = False  # a step from one series to the next is not a step
    steps = steps[inside]
    step = steps[0]
    if not (steps == step).all() or not step > step * 0:
        return None
    key, rows = groups[0]
    label = f"{source}" + (f", series {key!r}" if columns.id else "")
    first = times.iloc[np.asarray(rows)]
    freq = _infer_freq(first, np.asarray(rows), label, converted=tz == _CONVERTED_UTC)
    if isinstance(freq, int):
        return freq
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Day):
        fixed = tz is None  # a day in a time zone can have 23 or 25 hours
        length = pd.Timedelta(days=offset.n)
    else:
        fixed = _is_fixed_step(freq)
        length = pd.Timedelta(offset) if fixed else None
    if not fixed or length != pd.Timedelta(step):
        return None
    return freq


def _make_series(index: pd.Index, block: np.ndarray, names: pd.Index) -> TimeSeries:
    return TimeSeries(index, block.astype(np.float32), components=names, copy=False)


def forecasts_to_table(
    forecasts: Sequence[TimeSeries],
    ids: Sequence[Hashable | None],
    columns: ColumnSpec,
    quantiles: Sequence[float] = (),
    tz: str | None = None,
    scale: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The forecast table of many series, built with a few array operations.

    One row per series and time step: the id column (if any), the time column (in the time
    zone ``tz`` of the data, see :func:`restore_time_zone`), and per target the mean of the
    samples plus, for more than one sample, a ``{target}_q{q}`` column per quantile.

    A point forecast's columns keep the forecasts' dtype (``float32`` for a model trained in
    single precision, the default); sample means and quantiles are ``float64``.

    Parameters
    ----------
    forecasts
        One forecast per series, targets first among the components.
    ids
        The id of each series (ignored without an id column).
    columns
        The model's columns.
    quantiles
        Quantile columns written when the forecasts have several samples.
    tz
        The time zone of the input times, put back on the forecast times.
    scale
        ``(mean, std)`` per target: values are turned back into the original units with
        ``value * std + mean`` (the inverse of standard scaling), all series at once.

    Examples
    --------
    >>> from darts import TimeSeries
    >>> fc = TimeSeries.from_times_and_values(
    ...     pd.date_range("2024-01-01", periods=2, freq="h"), np.array([[1.0], [2.0]]),
    ...     columns=["y"])
    >>> spec = ColumnSpec(time="time", targets=("y",), id="id")
    >>> table = forecasts_to_table([fc, fc], ["a", "b"], spec, tz="UTC")
    >>> table["id"].tolist(), str(table["time"].iloc[2]), table["y"].tolist()
    (['a', 'a', 'b', 'b'], '2024-01-01 00:00:00+00:00', [1.0, 2.0, 1.0, 2.0])
    """
    targets = list(columns.targets)
    if not forecasts:
        names = ([columns.id] if columns.id else []) + [columns.time, *targets]
        return pd.DataFrame(columns=names)
    lengths = {len(fc) for fc in forecasts}
    samples = {fc.n_samples for fc in forecasts}
    if len(lengths) > 1 or len(samples) > 1:  # not from one predict call: one at a time
        return pd.concat(
            [
                forecasts_to_table([fc], [key], columns, quantiles, tz, scale)
                for fc, key in zip(forecasts, ids)
            ],
            ignore_index=True,
        )
    length = lengths.pop()
    # (S, T, C, N): series, time, component, sample; keep the target components
    values = np.stack([fc.all_values(copy=False)[:, : len(targets), :] for fc in forecasts])
    values = values.astype(np.float64)
    if scale is not None:
        mean, std = (np.asarray(a, dtype=np.float64)[None, None, :, None] for a in scale)
        values = values * std + mean
    first = forecasts[0].time_index
    if isinstance(first, pd.DatetimeIndex):
        stamps = np.concatenate([fc.time_index.to_numpy() for fc in forecasts])
        times: pd.Index = restore_time_zone(pd.DatetimeIndex(stamps), tz, first.freqstr)
    else:
        times = pd.Index(np.concatenate([fc.time_index.to_numpy() for fc in forecasts]))
    data: dict[str, Any] = {}
    if columns.id:
        data[columns.id] = np.repeat(np.asarray(list(ids), dtype=object), length)
    data[columns.time] = times
    flat = values.reshape(len(forecasts) * length, len(targets), -1)
    # a point forecast keeps the precision of the model's output: a float32 model's values
    # are written as float32 ("8.882681"), not with the float64 digits the cast made up
    precision = forecasts[0].dtype if flat.shape[2] == 1 else np.float64
    for i, target in enumerate(targets):
        data[target] = flat[:, i, :].mean(axis=1).astype(precision, copy=False)
        if flat.shape[2] > 1:
            for q in quantiles:
                data[f"{target}_q{q:g}"] = np.quantile(flat[:, i, :], q, axis=1)
    return pd.DataFrame(data)
