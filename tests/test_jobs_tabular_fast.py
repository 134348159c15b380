"""The whole-table fast path of frame_to_series gives what the series-by-series path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cnforecast.jobs import tabular
from cnforecast.jobs.tabular import ColumnSpec, frame_to_series

SPEC = ColumnSpec(time="time", targets=("y",), future_covariates=("f",), id="id")


def long_table(freq: str, n_series: int = 4, length: int = 30, tz: str | None = None, ints=False):
    frames = []
    for k in range(n_series):
        if ints:
            times = np.arange(length) * 3 + 100
        else:
            times = pd.date_range("2024-03-29", periods=length, freq=freq, tz=tz)
        y = np.arange(length, dtype=float) + k
        y[-2:] = np.nan  # future rows: only the future covariate is known
        frames.append(pd.DataFrame({"id": f"s{k}", "time": times, "y": y, "f": np.ones(length)}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(
    ("freq", "tz", "ints", "fast"),
    [
        ("h", None, False, True),
        ("15min", None, False, True),
        ("D", None, False, True),
        ("2D", None, False, True),
        ("h", "Europe/Berlin", False, True),  # fixed steps: UTC inside, regular
        ("D", "Europe/Berlin", False, False),  # a 23-hour day: series by series
        ("MS", None, False, False),  # months differ in length
        (None, None, True, True),
    ],
)
def test_fast_and_slow_paths_agree(monkeypatch, freq, tz, ints, fast):
    df = long_table(freq, tz=tz, ints=ints)
    calls = []
    original = tabular._uniform_freq

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(result)
        return result

    monkeypatch.setattr(tabular, "_uniform_freq", spy)
    got = frame_to_series(df, SPEC)
    assert (calls[0] is not None) == fast
    monkeypatch.setattr(tabular, "_uniform_freq", lambda *a, **k: None)
    want = frame_to_series(df, SPEC)
    assert got.freq == want.freq and got.tz == want.tz and got.ids == want.ids
    for a, b in zip(got.targets + got.future_covariates, want.targets + want.future_covariates):
        assert a.time_index.equals(b.time_index)
        assert a.freq == b.freq
        np.testing.assert_array_equal(a.values(), b.values())


def test_unsorted_or_gapped_tables_still_get_the_precise_error():
    df = long_table("h")
    swapped = df.copy()
    swapped.loc[[33, 34], "time"] = swapped.loc[[34, 33], "time"].to_numpy()
    with pytest.raises(tabular.DataValidationError, match="series 's1': times are not in"):
        frame_to_series(swapped, SPEC)
    gapped = df.drop(index=[65]).reset_index(drop=True)
    with pytest.raises(tabular.DataValidationError, match="series 's2': irregular time steps"):
        frame_to_series(gapped, SPEC)


def _forecasts(n_series: int, samples: int = 1):
    from darts import TimeSeries

    rng = np.random.default_rng(0)
    out = []
    for k in range(n_series):
        index = pd.date_range(f"2024-01-0{k + 1}", periods=3, freq="h")
        out.append(TimeSeries.from_times_and_values(index, rng.normal(size=(3, 2, samples))))
    return out


@pytest.mark.parametrize("samples", [1, 5])
def test_forecasts_to_table_matches_one_frame_per_series(samples):
    spec = ColumnSpec(time="time", targets=("a", "b"), id="id")
    forecasts = _forecasts(3, samples)
    mean, std = np.array([1.0, -2.0]), np.array([2.0, 0.5])
    table = tabular.forecasts_to_table(
        forecasts, ["x", "y", "z"], spec, (0.1, 0.9), tz="Europe/Berlin", scale=(mean, std)
    )
    assert list(table.columns) == (
        ["id", "time", "a"]
        + (["a_q0.1", "a_q0.9"] if samples > 1 else [])
        + ["b"]
        + (["b_q0.1", "b_q0.9"] if samples > 1 else [])
    )
    for k, fc in enumerate(forecasts):
        rows = table.iloc[3 * k : 3 * k + 3]
        assert (rows["id"] == "xyz"[k]).all()
        expected_times = fc.time_index.tz_localize("UTC").tz_convert("Europe/Berlin")
        assert pd.DatetimeIndex(rows["time"]).equals(expected_times)
        values = fc.all_values() * std[None, :, None] + mean[None, :, None]
        np.testing.assert_allclose(rows["a"], values[:, 0, :].mean(axis=1))
        if samples > 1:
            np.testing.assert_allclose(rows["b_q0.9"], np.quantile(values[:, 1, :], 0.9, axis=1))
