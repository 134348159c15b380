"""Every registry model builds, states its covariate support truthfully, and runs the protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries

from cnforecast.bench.config import ModelConfig
from cnforecast.datasets import RatioSplit, standard_split
from cnforecast.engine import evaluation, training
from cnforecast.models.registry import MODELS

L, H = 16, 8


@pytest.fixture(scope="module")
def split():
    t = np.arange(260)[:, None]
    values = (np.sin(2 * np.pi * t / 12 + np.arange(4)) + 0.05 * t / 260).astype(np.float32)
    series = TimeSeries.from_times_and_values(
        pd.date_range("2021-01-01", periods=260, freq="h"), values
    )
    return standard_split(series, L, rule=RatioSplit(0.6, 0.25))


@pytest.mark.parametrize("name", list(MODELS))
def test_builds_with_test_settings_and_flags_match(name):
    spec = MODELS[name]
    if not spec.is_available():
        pytest.skip(f"{name} needs {spec.missing_dependencies()}")
    model = spec.create(L, H, **spec.test_settings)
    assert model.supports_past_covariates == spec.supports_past_covariates
    assert model.supports_future_covariates == spec.supports_future_covariates
    assert model.supports_static_covariates == spec.supports_static_covariates


@pytest.mark.parametrize("name", list(MODELS))
def test_fits_and_forecasts_a_multivariate_split(name, split):
    """The baseline wiring: fit with validation and early stopping, score every test window."""
    spec = MODELS[name]
    if not spec.is_available():
        pytest.skip(f"{name} needs {spec.missing_dependencies()}")
    kwargs = ModelConfig(name, preset="test").resolved_kwargs(
        spec.defaults, spec.test_settings, max_epochs=1
    )
    timer = training.EpochTimer()
    kwargs["pl_trainer_kwargs"] = training.trainer_kwargs(
        accelerator="cpu", patience=1, progress_bar=False, callbacks=[timer]
    )
    model = spec.create(L, H, **kwargs, random_state=0)
    stats = training.fit(model, split.train, split.val)
    assert stats.epochs_run == 1 and stats.best_val_loss is not None
    result = evaluation.evaluate(
        model, split.test, lookback=L, horizon=H, expected_windows=split.n_windows(H)
    )
    assert np.isfinite(result.mse) and result.mse > 0
    assert training.count_parameters(model) > 0
