"""Time zones and infinite values in input tables (cnforecast/jobs/tabular.py)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from cnforecast.jobs.errors import DataValidationError
from cnforecast.jobs.tabular import (
    ColumnSpec,
    SeriesBundle,
    check_time_zone,
    frame_to_series,
    restore_time_zone,
)

PLAIN = ColumnSpec(time="time", targets=("y",))
LONG = ColumnSpec(time="time", targets=("y",), id="id")


def csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def hourly(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"time": times, "y": np.arange(len(times), dtype=float)})


def test_naive_times_have_no_time_zone():
    bundle = frame_to_series(
        hourly(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"]), PLAIN
    )
    assert bundle.tz is None


def test_one_offset_is_kept():
    times = ["2024-01-01 00:00+01:00", "2024-01-01 01:00+01:00", "2024-01-01 02:00+01:00"]
    bundle = frame_to_series(hourly(times), PLAIN)
    assert bundle.tz == "UTC+01:00"
    # inside darts the times are UTC (hourly: a fixed step)
    assert bundle.targets[0].start_time() == pd.Timestamp("2023-12-31 23:00")
    restored = restore_time_zone(bundle.targets[0].time_index, bundle.tz, bundle.freq)
    assert str(restored[0]) == "2024-01-01 00:00:00+01:00"


def test_mixed_offsets_are_converted_to_utc():
    # a daylight-saving change in Berlin: +01:00 then +02:00, one hour apart
    times = ["2024-03-31 00:00+01:00", "2024-03-31 01:00+01:00", "2024-03-31 03:00+02:00"]
    bundle = frame_to_series(hourly(times), PLAIN)
    assert bundle.tz == "UTC"
    assert bundle.freq == "h"
    assert str(restore_time_zone(bundle.targets[0].time_index, bundle.tz, "h")[-1]) == (
        "2024-03-31 01:00:00+00:00"
    )


def test_mixed_offsets_on_daily_data_explain_the_conversion():
    times = ["2024-03-30 00:00+01:00", "2024-03-31 00:00+01:00", "2024-04-01 00:00+02:00"]
    with pytest.raises(DataValidationError, match="converted to UTC because their UTC offsets"):
        frame_to_series(hourly(times), PLAIN)


def test_named_zone_across_daylight_saving_hourly_and_daily():
    for freq in ("h", "D"):
        index = pd.date_range("2024-03-30", periods=48, freq=freq, tz="Europe/Berlin")
        df = pd.DataFrame({"time": index, "y": np.arange(48.0)})
        bundle = frame_to_series(df, PLAIN)
        assert bundle.tz == "Europe/Berlin"
        assert bundle.freq == freq
        back = restore_time_zone(bundle.targets[0].time_index, bundle.tz, bundle.freq)
        assert back.equals(index)


def test_naive_and_aware_times_mixed_are_refused_with_both_rows():
    times = ["2024-01-01 00:00+00:00", "2024-01-01 01:00+00:00", "2024-01-01 02:00"]
    with pytest.raises(DataValidationError) as info:
        frame_to_series(hourly(times), PLAIN)
    message = str(info.value)
    assert "mixes times with a UTC offset (row 1" in message
    assert "without one (row 3: '2024-01-01 02:00')" in message


def test_iso_z_suffix_is_utc():
    bundle = frame_to_series(hourly(["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"]), PLAIN)
    assert bundle.tz == "UTC"


def test_check_time_zone():
    naive = SeriesBundle([], None, None, [], "h", PLAIN, source="d.csv", tz=None)
    utc = SeriesBundle([], None, None, [], "h", PLAIN, source="d.csv", tz="UTC")
    check_time_zone(None, naive)
    check_time_zone("Europe/Berlin", utc)  # another zone: accepted, forecasts keep the data's
    with pytest.raises(DataValidationError, match=r"have a time zone \(UTC\), but the model"):
        check_time_zone(None, utc)
    with pytest.raises(DataValidationError, match="have no time zone, but the model was trained"):
        check_time_zone("UTC", naive)


def test_one_infinite_value_is_reported_as_infinite_with_its_row():
    df = csv(
        "time,y\n" + "\n".join(f"2000-01-01 {h:02d}:00,{'inf' if h == 7 else h}" for h in range(20))
    )
    with pytest.raises(DataValidationError) as info:
        frame_to_series(df, PLAIN)
    message = str(info.value)
    assert "column 'y' has 1 infinite value(s), the first at row 8" in message
    assert "2000-01-01 07:00:00" in message
    assert "NaN" not in message


def test_infinite_values_in_a_long_table_name_the_series():
    rows = [
        f"{k},2000-01-01 {h:02d}:00,{'-inf' if (k, h) in (('b', 3), ('b', 5)) else 1}"
        for k in "ab"
        for h in range(10)
    ]
    with pytest.raises(
        DataValidationError, match=r"2 infinite value\(s\), the first at row 14.*series 'b'"
    ):
        frame_to_series(csv("id,time,y\n" + "\n".join(rows)), LONG)


def test_values_beyond_float32_are_refused():
    df = hourly(["2024-01-01 00:00", "2024-01-01 01:00"])
    df["y"] = [1.0, 1e39]
    with pytest.raises(DataValidationError, match="beyond the 32-bit float range"):
        frame_to_series(df, PLAIN)
