"""The generic conformance suite: every registered model through the darts API.

Each model is built from its registry ``test_settings`` (small and fast), so adding a
model to :data:`cnforecast.models.registry.MODELS` adds it here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries
from darts.dataprocessing import Pipeline
from darts.dataprocessing.transformers import Scaler
from darts.utils.likelihood_models import QuantileRegression

import cnforecast  # noqa: F401 - registers the safe globals for loading
from cnforecast.models.registry import MODELS, ModelSpec

LOOKBACK, HORIZON = 24, 6
LENGTH = 96


def _series(seed: int = 0, n_components: int = 2, length: int = LENGTH, start="2021-01-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    values = np.stack(
        [
            np.sin(2 * np.pi * (t + 3 * i) / 12) + 0.1 * rng.standard_normal(length)
            for i in range(n_components)
        ],
        axis=1,
    ).astype(np.float32)
    index = pd.date_range(start, periods=length, freq="h")
    return TimeSeries.from_times_and_values(
        index, values, columns=[f"y{i}" for i in range(n_components)]
    )


def _covariates(series: TimeSeries, extra: int, n_components: int = 1, seed: int = 5):
    rng = np.random.default_rng(seed)
    index = pd.date_range(series.start_time(), periods=len(series) + extra, freq=series.freq)
    values = rng.standard_normal((len(index), n_components)).astype(np.float32)
    return TimeSeries.from_times_and_values(
        index, values, columns=[f"c{i}" for i in range(n_components)]
    )


def _specs(predicate=lambda spec: True):
    params = []
    for name, spec in MODELS.items():
        marks = []
        if not spec.is_available():
            marks.append(pytest.mark.skip(reason=f"{name} needs {spec.missing_dependencies()}"))
        if predicate(spec):
            params.append(pytest.param(spec, id=name, marks=marks))
    return params


def _build(spec: ModelSpec, quiet_trainer: dict, **overrides):
    settings = {**spec.test_settings, "random_state": 42, "pl_trainer_kwargs": quiet_trainer}
    settings.update(overrides)
    return spec.create(LOOKBACK, HORIZON, **settings)


@pytest.mark.parametrize("spec", _specs())
def test_fit_predict_single_series(spec, quiet_trainer):
    series = _series()
    model = _build(spec, quiet_trainer).fit(series)
    pred = model.predict(HORIZON)
    assert pred.n_timesteps == HORIZON
    assert list(pred.components) == list(series.components)
    assert pred.start_time() == series.end_time() + series.freq
    assert np.isfinite(pred.values()).all()


@pytest.mark.parametrize("spec", _specs())
@pytest.mark.parametrize("n", [1, HORIZON, 2 * HORIZON + 1], ids=["below", "equal", "above"])
def test_forecast_lengths_below_equal_above_output_chunk(spec, n, quiet_trainer):
    series = _series()
    model = _build(spec, quiet_trainer).fit(series)
    pred = model.predict(n)
    assert pred.n_timesteps == n
    assert np.isfinite(pred.values()).all()


@pytest.mark.parametrize("spec", _specs())
def test_several_series(spec, quiet_trainer):
    train = [_series(seed=1), _series(seed=2, length=80)]
    model = _build(spec, quiet_trainer).fit(train)
    preds = model.predict(HORIZON, series=train)
    assert isinstance(preds, list) and len(preds) == 2
    for series, pred in zip(train, preds):
        assert pred.start_time() == series.end_time() + series.freq
        assert pred.n_timesteps == HORIZON


@pytest.mark.parametrize("spec", _specs(lambda s: s.supports_past_covariates))
def test_past_covariates(spec, quiet_trainer):
    series = _series()
    past = _covariates(series, extra=HORIZON, n_components=2)
    model = _build(spec, quiet_trainer).fit(series, past_covariates=past)
    pred = model.predict(2 * HORIZON, past_covariates=past)  # autoregressive with covariates
    assert pred.n_timesteps == 2 * HORIZON
    assert np.isfinite(pred.values()).all()


@pytest.mark.parametrize("spec", _specs(lambda s: s.supports_future_covariates))
def test_future_covariates(spec, quiet_trainer):
    series = _series()
    future = _covariates(series, extra=2 * HORIZON)
    model = _build(spec, quiet_trainer).fit(series, future_covariates=future)
    pred = model.predict(HORIZON, future_covariates=future)
    assert pred.n_timesteps == HORIZON
    # the forecast must depend on the future covariates
    shifted = future.with_values(future.values() + 3.0)
    other = model.predict(HORIZON, future_covariates=shifted)
    assert not np.allclose(pred.values(), other.values())


@pytest.mark.parametrize("spec", _specs(lambda s: s.supports_static_covariates))
def test_static_covariates(spec, quiet_trainer):
    a = _series(seed=1).with_static_covariates(pd.DataFrame({"size": [1.0], "site": [0.0]}))
    b = _series(seed=2).with_static_covariates(pd.DataFrame({"size": [3.0], "site": [1.0]}))
    model = _build(spec, quiet_trainer).fit([a, b])
    preds = model.predict(HORIZON, series=[a, b])
    assert all(p.n_timesteps == HORIZON for p in preds)
    assert model.uses_static_covariates


@pytest.mark.parametrize("spec", _specs())
def test_historical_forecasts_and_backtest(spec, quiet_trainer):
    series = _series()
    model = _build(spec, quiet_trainer).fit(series)
    start = LENGTH - HORIZON - 10
    forecasts = model.historical_forecasts(
        series,
        start=start,
        forecast_horizon=HORIZON,
        stride=2,
        retrain=False,
        last_points_only=False,
        verbose=False,
    )
    assert len(forecasts) == len(range(start, LENGTH - HORIZON + 1, 2))
    assert all(f.n_timesteps == HORIZON for f in forecasts)
    error = model.backtest(series, historical_forecasts=forecasts)
    assert np.isfinite(error) and error >= 0


@pytest.mark.parametrize("spec", _specs())
def test_save_load_identical_predictions(spec, quiet_trainer, tmp_path):
    series = _series()
    model = _build(spec, quiet_trainer).fit(series)
    path = tmp_path / "model.pt"
    model.save(str(path))
    loaded = type(model).load(str(path))
    # both predict from the saved state, random generator included (Informer's ProbSparse
    # attention samples keys at every forward pass, so its forecasts use that generator)
    expected = model.predict(HORIZON, series=series).values()
    np.testing.assert_allclose(loaded.predict(HORIZON, series=series).values(), expected, rtol=1e-6)


@pytest.mark.parametrize("spec", _specs())
def test_same_random_state_same_predictions(spec, quiet_trainer):
    series = _series()
    first = _build(spec, quiet_trainer).fit(series).predict(HORIZON).values()
    second = _build(spec, quiet_trainer).fit(series).predict(HORIZON).values()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("spec", _specs(lambda s: s.probabilistic))
def test_probabilistic_samples(spec, quiet_trainer):
    series = _series()
    model = _build(spec, quiet_trainer, likelihood=QuantileRegression([0.1, 0.5, 0.9]))
    model.fit(series)
    pred = model.predict(HORIZON, num_samples=50)
    assert pred.n_samples == 50
    low, high = pred.quantile(0.1).values(), pred.quantile(0.9).values()
    assert (high >= low).all() and (high > low).any()


@pytest.mark.parametrize("spec", _specs())
def test_inside_a_pipeline_with_a_scaler(spec, quiet_trainer):
    series = _series().with_values(_series().values() * 100 + 500)
    pipeline = Pipeline([Scaler()])
    scaled = pipeline.fit_transform(series)
    model = _build(spec, quiet_trainer).fit(scaled)
    pred = pipeline.inverse_transform(model.predict(HORIZON))
    assert pred.n_timesteps == HORIZON
    assert abs(float(pred.values().mean()) - 500) < 200  # back in the original units


@pytest.mark.parametrize("spec", _specs())
def test_inputs_are_not_mutated(spec, quiet_trainer):
    series = _series()
    past = _covariates(series, extra=HORIZON)
    before = (series.values().copy(), past.values().copy())
    kwargs = {"past_covariates": past} if spec.supports_past_covariates else {}
    model = _build(spec, quiet_trainer).fit(series, **kwargs)
    model.predict(HORIZON, series=series, **kwargs)
    np.testing.assert_array_equal(series.values(), before[0])
    np.testing.assert_array_equal(past.values(), before[1])
