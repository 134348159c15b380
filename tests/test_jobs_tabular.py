"""Validation of input tables (in-process, fast): every user mistake gets a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _jobs_data import make_frame

from cnforecast.jobs.errors import DataValidationError
from cnforecast.jobs.tabular import ColumnSpec, SeriesBundle, frame_to_series, load_series

SPEC = ColumnSpec(
    time="time", targets=("a", "b"), past_covariates=("temp",), future_covariates=("hour",), id="id"
)
PLAIN = ColumnSpec(time="time", targets=("a",))


def plain_frame(length: int = 10, freq: str = "h") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=length, freq=freq),
            "a": np.arange(length, dtype=float),
        }
    )


def test_long_table_becomes_float32_series_per_id():
    bundle = frame_to_series(make_frame(n_series=3, length=30, future_rows=4), SPEC)
    assert bundle.ids == ["s0", "s1", "s2"]
    assert bundle.freq == "h"
    assert [len(s) for s in bundle.targets] == [30, 30, 30]
    assert [len(s) for s in bundle.past_covariates] == [30, 30, 30]
    # the future rows only extend the future covariates
    assert [len(s) for s in bundle.future_covariates] == [34, 34, 34]
    assert bundle.targets[0].dtype == np.float32
    assert list(bundle.targets[0].components) == ["a", "b"]


def test_rows_of_a_series_need_not_be_adjacent():
    df = make_frame(n_series=2, length=10, future_rows=0)
    shuffled = pd.concat([df.iloc[::2], df.iloc[1::2]]).sort_values("time", kind="stable")
    bundle = frame_to_series(shuffled, SPEC)
    assert [len(s) for s in bundle.targets] == [10, 10]


def test_csv_and_parquet_files(tmp_path):
    df = make_frame(n_series=1, length=12, future_rows=0, ids=["007"])
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet", index=False)
    from_csv = load_series(tmp_path / "d.csv", SPEC)
    from_parquet = load_series(tmp_path / "d.parquet", SPEC)
    assert from_csv.ids == ["007"]  # ids are read as text: leading zeros survive
    assert from_csv.targets[0] == from_parquet.targets[0]


def test_integer_time_index():
    df = pd.DataFrame({"time": range(100, 120, 2), "a": np.arange(10.0)})
    bundle = frame_to_series(df, PLAIN)
    assert bundle.freq == 2
    assert bundle.targets[0].start_time() == 100


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ColumnSpec(time="time", targets=("aa",)), "column 'aa' not found; did you mean 'a'?"),
        (ColumnSpec(time="tim", targets=("a",)), "column 'tim' not found; did you mean 'time'?"),
        (ColumnSpec(time="time", targets=("zzz",)), "(available columns: time, a)"),
    ],
)
def test_missing_or_misspelt_column(spec, message):
    with pytest.raises(DataValidationError, match="not found") as info:
        frame_to_series(plain_frame(), spec)
    assert message in str(info.value)


def test_column_with_two_roles():
    with pytest.raises(DataValidationError, match="given twice"):
        ColumnSpec(time="time", targets=("a",), past_covariates=("a",))


def test_non_numeric_value_names_column_and_row():
    df = plain_frame().astype({"a": object})
    df.loc[4, "a"] = "12,5"
    with pytest.raises(
        DataValidationError, match=r"column 'a' has a non-numeric value at row 5: '12,5'"
    ):
        frame_to_series(df, PLAIN)


def test_bad_time_value():
    df = plain_frame().astype({"time": str})
    df.loc[3, "time"] = "yesterday"
    with pytest.raises(DataValidationError, match="not a date/time at row 4: 'yesterday'"):
        frame_to_series(df, PLAIN)


def test_unsorted_times():
    df = plain_frame()
    df.loc[[3, 4], "time"] = df.loc[[4, 3], "time"].to_numpy()
    with pytest.raises(DataValidationError, match="not in increasing order: row 5"):
        frame_to_series(df, PLAIN)


def test_duplicated_times():
    df = plain_frame()
    df.loc[5, "time"] = df.loc[4, "time"]
    with pytest.raises(
        DataValidationError, match="duplicated time 2024-01-01 04:00:00 at rows 5 and 6"
    ):
        frame_to_series(df, PLAIN)


def test_irregular_frequency():
    df = plain_frame(12).drop(index=[6]).reset_index(drop=True)
    with pytest.raises(
        DataValidationError, match="irregular time steps: most steps are 0 days 01:00:00"
    ):
        frame_to_series(df, PLAIN)


def test_series_with_different_frequencies():
    first = plain_frame(10, "h").assign(id="x")
    second = plain_frame(10, "2h").assign(id="y")
    spec = ColumnSpec(time="time", targets=("a",), id="id")
    with pytest.raises(DataValidationError, match="series 'y': frequency '2h' differs from 'h'"):
        frame_to_series(pd.concat([first, second]), spec)


def test_nan_is_an_error_by_default():
    df = plain_frame()
    df.loc[[2, 7], "a"] = np.nan
    with pytest.raises(DataValidationError, match=r"column 'a' has 2 missing value.*row 3.*--fill"):
        frame_to_series(df, PLAIN)


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("ffill", [0, 0, 2, 2, 4]), ("interpolate", [0, 1, 2, 3, 4]), ("zero", [0, 0, 2, 0, 4])],
)
def test_fill_options(fill, expected):
    df = plain_frame(5)
    df.loc[[1, 3], "a"] = np.nan
    bundle = frame_to_series(df, PLAIN, fill=fill)
    assert bundle.targets[0].values().ravel().tolist() == expected


def test_leading_gap_with_ffill_takes_the_first_value():
    df = plain_frame(5)
    df.loc[0, "a"] = np.nan
    assert frame_to_series(df, PLAIN, fill="ffill").targets[0].values()[0, 0] == 1.0


def test_series_too_short_names_the_series_and_the_need():
    df = make_frame(n_series=2, length=20, future_rows=0)
    df = pd.concat([df[df["id"] == "s0"], df[df["id"] == "s1"].head(9)])
    with pytest.raises(
        DataValidationError,
        match=r"series 's1'.* 9 time steps.*at least 12 are needed \(icl 8 \+ ocl 4\)",
    ):
        frame_to_series(df, SPEC, min_length=12, min_length_reason="icl 8 + ocl 4")


def test_empty_and_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_text("time,a\n")
    with pytest.raises(DataValidationError, match="no data rows"):
        load_series(tmp_path / "empty.csv", PLAIN)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DataValidationError, match="unsupported table file"):
        load_series(tmp_path / "x.txt", PLAIN)
    with pytest.raises(DataValidationError, match="does not exist"):
        load_series(tmp_path / "missing.csv", PLAIN)


def test_concat_bundles():
    one = frame_to_series(make_frame(n_series=1, ids=["x"]), SPEC)
    two = frame_to_series(make_frame(n_series=2), SPEC)
    joined = SeriesBundle.concat([one, two])
    assert joined.ids == ["x", "s0", "s1"]
    assert len(joined.future_covariates) == 3
