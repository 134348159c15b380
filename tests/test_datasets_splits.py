"""Standard splits: borders, lengths, scaling and window counts of the literature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries
from darts.models import LinearRegressionModel

from cnforecast.datasets import (
    ETT_HOURLY_SPLIT,
    ETT_MINUTE_SPLIT,
    RATIO_SPLIT,
    FixedSplit,
    RatioSplit,
    SplitError,
    get_dataset_info,
    load_dataframe,
    split_borders,
    standard_split,
    write_synthetic_dataset,
)

HORIZONS = (96, 192, 336, 720)
# Test windows at lookback 96 (Time-Series-Library, as published).
EXPECTED_TEST_WINDOWS = {
    "ETTh": (ETT_HOURLY_SPLIT, 17420, (2785, 2689, 2545, 2161)),
    "ETTm": (ETT_MINUTE_SPLIT, 69680, (11425, 11329, 11185, 10801)),
    "Weather": (RATIO_SPLIT, 52696, (10444, 10348, 10204, 9820)),
    "Electricity": (RATIO_SPLIT, 26304, (5165, 5069, 4925, 4541)),
}


@pytest.mark.parametrize("family", list(EXPECTED_TEST_WINDOWS))
def test_window_counts_of_the_literature_from_the_borders(family):
    rule, n_rows, expected = EXPECTED_TEST_WINDOWS[family]
    borders = split_borders(rule, n_rows, 96)
    test_rows = borders.test_end - borders.test_start
    assert tuple(test_rows - 96 - h + 1 for h in HORIZONS) == expected


def test_ett_borders():
    assert split_borders(ETT_HOURLY_SPLIT, 17420, 96)._asdict() == {
        "train_start": 0,
        "train_end": 8640,
        "val_start": 8544,
        "val_end": 11520,
        "test_start": 11424,
        "test_end": 14400,
    }
    minute = split_borders(ETT_MINUTE_SPLIT, 69680, 96)
    assert (minute.train_end, minute.val_end, minute.test_end) == (34560, 46080, 57600)
    assert minute.slice("test") == slice(57600 - 11520 - 96, 57600)


def test_bad_arguments():
    with pytest.raises(SplitError, match="longer than the training part"):
        split_borders(RATIO_SPLIT, 100, 71)
    with pytest.raises(ValueError, match="lookback must be an integer >= 0"):
        split_borders(RATIO_SPLIT, 100, -1)
    with pytest.raises(SplitError, match="needs at least 14400 rows"):
        split_borders(ETT_HOURLY_SPLIT, 1000, 96)
    series = TimeSeries.from_values(np.arange(50.0))
    with pytest.raises(ValueError, match="split rule is needed"):
        standard_split(series, 4)
    split = standard_split(series, 4, rule=RATIO_SPLIT)
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        split.n_windows(0)
    with pytest.raises(ValueError, match="unknown part 'tst'"):
        split.n_windows(2, "tst")  # type: ignore[arg-type]
    assert split.n_windows(1000) == 0


# ------------------------------------------------------------------ the real files


@pytest.fixture(scope="module")
def etth1_split(benchmark_data_dir):
    return standard_split("ETTh1", 96, path=benchmark_data_dir)


@pytest.mark.data
def test_real_etth1_split(etth1_split, benchmark_data_dir):
    split = etth1_split
    assert (len(split.train), len(split.val), len(split.test)) == (8640, 2976, 2976)
    assert [split.n_windows(h) for h in HORIZONS] == [2785, 2689, 2545, 2161]
    assert split.name == "ETTh1"
    assert split.test.start_time() == pd.Timestamp("2016-07-01") + pd.Timedelta(hours=11424)
    assert all(part.dtype == np.float32 for part in (split.train, split.val, split.test))

    raw = load_dataframe("ETTh1", path=benchmark_data_dir).iloc[:, 1:].to_numpy()
    mean, std = raw[:8640].mean(axis=0), raw[:8640].std(axis=0)  # numpy std: ddof=0
    np.testing.assert_allclose(split.train.values().mean(axis=0, dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(split.train.values().std(axis=0, dtype=np.float64), 1, atol=1e-5)
    np.testing.assert_allclose(split.test.values(), (raw[11424:14400] - mean) / std, atol=1e-5)
    back = split.scaler.inverse_transform(split.test)
    np.testing.assert_allclose(back.values(), raw[11424:14400], rtol=1e-5, atol=1e-4)


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "lengths", "windows"),
    [("ETTm1", (34560, 11616, 11616), 11425), ("Weather", (36887, 5366, 10635), 10444)],
)
def test_real_split_lengths_and_windows(benchmark_data_dir, name, lengths, windows):
    split = standard_split(name, 96, path=benchmark_data_dir)
    assert (len(split.train), len(split.val), len(split.test)) == lengths
    assert split.n_windows(96) == windows
    assert len(split.window_starts(96)) == windows
    train = split.train.values().astype(np.float64)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-4)
    if name == "Weather":  # indexed by position: the parts carry their file rows
        assert split.test.time_index[0] == split.borders.test_start == 52696 - 10539 - 96
        assert split.test.time_index[-1] == 52695


# ------------------------------------------------------------- synthetic, every rule


def check_ratio_split(tmp_path, name: str, n_rows: int, lookback: int) -> None:
    """Write a synthetic file of ``name`` with ``n_rows`` rows; check its 0.7 / 0.2 split."""
    folder = tmp_path / f"{name}-{n_rows}"
    write_synthetic_dataset(name, folder, n_rows, seed=n_rows)
    split = standard_split(name, lookback, path=folder, verify=False)
    n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
    n_val = n_rows - n_train - n_test
    assert (len(split.train), len(split.val), len(split.test)) == (
        n_train,
        n_val + lookback,
        n_test + lookback,
    )
    assert split.borders.val_start == n_train - lookback
    assert split.borders.test_start == n_rows - n_test - lookback
    assert split.borders.test_end == n_rows
    assert split.n_windows(3) == n_test - 3 + 1
    assert split.n_windows(3, "val") == n_val - 3 + 1
    assert split.n_windows(3, "train") == n_train - lookback - 3 + 1

    raw = load_dataframe(name, path=folder, verify=False).iloc[:, 1:].to_numpy()
    mean, std = raw[:n_train].mean(axis=0), raw[:n_train].std(axis=0)
    expected = (raw - mean) / std
    np.testing.assert_allclose(split.train.values(), expected[:n_train], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        split.test.values(), expected[n_rows - n_test - lookback :], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        split.val.values(), expected[n_train - lookback : n_train + n_val], rtol=1e-5, atol=1e-5
    )
    assert split.val.n_components == get_dataset_info(name).n_series


@pytest.mark.parametrize("name", ["Weather", "Electricity", "Traffic", "Exchange"])
@pytest.mark.parametrize("n_rows", [60, 97])
def test_ratio_rule_on_synthetic_files(tmp_path, name, n_rows):
    check_ratio_split(tmp_path, name, n_rows, lookback=5)


def test_ett_hourly_rule_on_a_synthetic_file(tmp_path):
    write_synthetic_dataset("ETTh2", tmp_path, 14500)
    split = standard_split("etth2", 96, path=tmp_path, verify=False)
    assert (len(split.train), len(split.val), len(split.test)) == (8640, 2976, 2976)
    assert [split.n_windows(h) for h in HORIZONS] == [2785, 2689, 2545, 2161]
    assert split.test.end_time() == pd.Timestamp("2016-07-01") + pd.Timedelta(hours=14399)
    # the validation part starts with the last `lookback` training rows
    np.testing.assert_array_equal(split.val.values()[:96], split.train.values()[-96:])


def test_weather_split_keeps_the_duplicate_and_the_gap(tmp_path):
    write_synthetic_dataset("Weather", tmp_path, 100)
    split = standard_split("Weather", 4, path=tmp_path, verify=False)
    total = len(split.train) + len(split.val) + len(split.test) - 2 * 4
    assert total == 100
    assert split.test.time_index[-1] == 99


# ---------------------------------------------------------------- series given directly


def test_time_series_with_a_rule(tmp_path):
    times = pd.date_range("2020-01-01", periods=200, freq="h")
    values = np.random.default_rng(0).normal(5.0, 2.0, size=(200, 3))
    series = TimeSeries.from_times_and_values(times, values)
    split = standard_split(series, 10, rule=FixedSplit(train=100, val=40, test=40))
    assert split.name is None
    assert split.rule == FixedSplit(train=100, val=40, test=40)
    assert (len(split.train), len(split.val), len(split.test)) == (100, 50, 50)
    assert split.borders.test_end == 180
    assert split.test.end_time() == times[179]
    assert split.forecast_start() == times[140]

    raw = standard_split(series, 10, rule=RatioSplit(0.7, 0.2), scale=False)
    assert raw.scaler is None
    assert raw.train.dtype == np.float32
    np.testing.assert_allclose(raw.train.values(), values[:140], rtol=1e-6)


def test_darts_historical_forecasts_yield_one_forecast_per_window():
    lookback, horizon = 12, 5
    rng = np.random.default_rng(1)
    series = TimeSeries.from_values(
        np.sin(np.arange(300) / 7.0)[:, None] + rng.normal(0, 0.1, (300, 2))
    )
    split = standard_split(series, lookback, rule=RATIO_SPLIT)
    model = LinearRegressionModel(lags=lookback, output_chunk_length=horizon)
    model.fit(split.train)
    forecasts = model.historical_forecasts(
        split.test,
        start=split.forecast_start(),
        forecast_horizon=horizon,
        stride=1,
        retrain=False,
        last_points_only=False,
        overlap_end=False,
    )
    assert len(forecasts) == split.n_windows(horizon) == len(split.window_starts(horizon))
    starts = split.window_starts(horizon)
    for i in (0, len(forecasts) - 1):
        assert forecasts[i].start_time() == split.test.time_index[starts[i] + lookback]
