"""The daily-frequency workaround for darts 0.48 + pandas 3 (cnforecast/compat/darts_daily.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries
from darts.models import DLinearModel
from darts.utils import utils as darts_utils

import cnforecast  # noqa: F401  (installs the workaround)
from cnforecast.compat import darts_daily
from cnforecast.models.registry import get_model_spec

PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def test_bug_still_present_in_pinned_darts() -> None:
    # fails once darts fixes n_steps_between for pandas 3's Day: then drop the workaround
    if not PANDAS_3:
        pytest.skip("the bug needs pandas 3")
    original = darts_utils.n_steps_between.__wrapped__
    with pytest.raises(TypeError):
        original(end=pd.Timestamp("2000-01-03"), start=pd.Timestamp("2000-01-01"), freq="D")
    assert darts_daily.bug_present()


@pytest.mark.parametrize(
    ("start", "end", "freq", "steps"),
    [
        ("2000-01-01", "2000-01-05", "D", 4),
        ("2000-01-01", "2000-01-05", "2D", 2),
        ("2000-01-05", "2000-01-01", "D", -4),
        ("2000-01-02", "2000-01-01", "2D", 0),  # rounds towards zero, as darts does
        ("2000-01-04", "2000-01-01", "2D", -1),
        ("2000-01-01", "2000-01-03", "h", 48),  # other frequencies go to darts unchanged
        ("2000-01-01", "2000-04-01", "MS", 3),
    ],
)
def test_n_steps_between(start: str, end: str, freq: str, steps: int) -> None:
    offset = pd.tseries.frequencies.to_offset(freq)
    got = darts_utils.n_steps_between(end=pd.Timestamp(end), start=pd.Timestamp(start), freq=offset)
    assert got == steps


def test_calendar_days_across_daylight_saving() -> None:
    # 2021-03-28 has 23 hours in Berlin: still one day
    index = pd.date_range("2021-03-26", periods=5, freq="D", tz="Europe/Berlin")
    got = darts_utils.n_steps_between(end=index[-1], start=index[0], freq=index.freq)
    assert got == 4


def test_patch_reaches_modules_that_imported_the_function() -> None:
    from darts.utils.historical_forecasts import utils as hf_utils

    assert hf_utils.n_steps_between is darts_utils.n_steps_between
    assert getattr(hf_utils.n_steps_between, "_cnforecast_daily_patch", False) == PANDAS_3


def test_import_hook_patches_darts_loaded_later() -> None:
    # load the module by file (no cnforecast package import, so darts is not loaded yet)
    path = Path(darts_daily.__file__)
    code = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("darts_daily", {str(path)!r})
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
assert "darts" not in sys.modules
mod.install()
import pandas as pd
from darts.utils.historical_forecasts.utils import n_steps_between
print(n_steps_between(pd.Timestamp("2000-01-05"), pd.Timestamp("2000-01-01"), pd.offsets.Day(2)))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


def _daily(freq: str, tz: str | None = None, length: int = 60) -> TimeSeries:
    index = pd.date_range("2021-01-01", periods=length, freq=freq, tz=tz)
    values = np.sin(np.arange(length) / 5.0).astype(np.float32)
    return TimeSeries.from_times_and_values(index, values)


def _model(name: str, quiet_trainer: dict):
    if name == "dlinear":
        return DLinearModel(
            input_chunk_length=8,
            output_chunk_length=4,
            n_epochs=1,
            random_state=0,
            pl_trainer_kwargs=quiet_trainer,
        )
    # no learned cycle: its phase comes from the dates, which the integer-indexed copy of
    # the series below does not have (the cycle on daily data is tested in test_cycle.py)
    settings = {
        **get_model_spec(name).test_settings,
        "n_epochs": 1,
        "random_state": 0,
        "cycle_length": None,
    }
    return get_model_spec(name).create(8, 4, pl_trainer_kwargs=quiet_trainer, **settings)


@pytest.mark.parametrize("name", ["circuitnet", "dlinear"])
@pytest.mark.parametrize("freq", ["D", "2D"])
def test_historical_forecasts_and_backtest_on_daily_data(
    name: str, freq: str, quiet_trainer: dict
) -> None:
    series = _daily(freq)
    model = _model(name, quiet_trainer)
    model.fit(series)
    kwargs = {"start": 0.8, "forecast_horizon": 4, "stride": 4, "verbose": False}
    forecasts = model.historical_forecasts(series, last_points_only=False, **kwargs)
    # the same forecast points as on a plain integer index (where darts has no bug)
    plain = TimeSeries.from_values(series.values())
    expected = model.historical_forecasts(plain, last_points_only=False, **kwargs)
    assert len(forecasts) == len(expected) > 0
    for got, want in zip(forecasts, expected):
        assert series.get_index_at_point(got.start_time()) == want.start_time()
        np.testing.assert_allclose(got.values(), want.values(), rtol=1e-5, atol=1e-6)
    error = model.backtest(series, **kwargs)
    assert np.isfinite(error)
