"""The linear path's least-squares start (``linear_init="lstsq"``)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries
from darts.models.components.layer_norm_variants import RINorm
from darts.utils.likelihood_models import GaussianLikelihood, QuantileRegression

from cnforecast import CircuitNetModel
from cnforecast.layers import CircuitConfig
from cnforecast.layers.config import LEGACY_VALUES
from cnforecast.layers.linear_path import LinearPath
from cnforecast.layers.periodic import PeriodicComponent
from cnforecast.models.linear_start import RIDGE, least_squares, linear_sums
from cnforecast.models.registry import MODELS

TINY = dict(MODELS["circuitnet"].test_settings)
LOOKBACK, HORIZON = 24, 6


def _series(periods=240, components=2, noise=0.2, seed=1) -> TimeSeries:
    rng = np.random.default_rng(seed)
    hour = np.arange(periods)
    values = np.stack(
        [
            (k + 1) * np.sin(2 * np.pi * (hour + 3 * k) / 24)
            + 0.5 * np.sin(2 * np.pi * hour / 7.5)
            + 0.01 * k * hour
            for k in range(components)
        ],
        1,
    )
    values = values + rng.normal(0, noise, values.shape)
    index = pd.date_range("2024-01-01 05:00", periods=periods, freq="h")
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


def _model(quiet_trainer, **kw) -> CircuitNetModel:
    # lr 0: no step is taken, so the weights after fit are where they started
    settings = {
        **TINY,
        "n_epochs": 1,
        "linear_init": "lstsq",
        "optimizer_kwargs": {"lr": 0.0},
        **kw,
    }
    return CircuitNetModel(
        LOOKBACK, HORIZON, random_state=0, pl_trainer_kwargs=quiet_trainer, **settings
    )


def _path_map(model: CircuitNetModel) -> tuple[np.ndarray, np.ndarray]:
    skip = model.model.skip
    return (
        (skip.weight * skip.gain).detach().double().numpy(),
        (skip.bias * skip.gain).detach().double().numpy(),
    )


def _expected_map(values: np.ndarray, cycle: np.ndarray | None, first_phase: int):
    """The weighted ridge least-squares map, window by window and component by component."""
    rows, targets, weights = [], [], []
    for start in range(len(values) - LOOKBACK - HORIZON + 1):
        window = values[start : start + LOOKBACK].astype(np.float64)
        future = values[start + LOOKBACK : start + LOOKBACK + HORIZON].astype(np.float64)
        mean, var = window.mean(0), window.var(0) + 1e-5
        window, future = (window - mean) / np.sqrt(var), (future - mean) / np.sqrt(var)
        if cycle is not None:
            steps = (first_phase + start + np.arange(LOOKBACK + HORIZON)) % len(cycle)
            window = window - cycle[steps[:LOOKBACK]]
            future = future - cycle[steps[LOOKBACK:]]
        for c in range(values.shape[1]):
            rows.append(np.append(window[:, c], 1.0))
            targets.append(future[:, c])
            weights.append(var[c])
    x, y, w = np.array(rows), np.array(targets), np.array(weights)[:, None]
    gram, cross = (x * w).T @ x, (x * w).T @ y
    penalty = np.diag(np.append(np.full(LOOKBACK, RIDGE * np.diag(gram)[:LOOKBACK].mean()), 0))
    solution = np.linalg.solve(gram + penalty, cross)
    return solution[:LOOKBACK].T, solution[LOOKBACK]


# ----------------------------------------------------------------------- the computation


def test_least_squares_recovers_a_map_and_leaves_the_bias_unpenalised():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(500, 5, generator=generator, dtype=torch.float64)
    true_weight = torch.randn(3, 5, generator=generator, dtype=torch.float64)
    y = x @ true_weight.T + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x1 = torch.cat([x, torch.ones(500, 1, dtype=torch.float64)], dim=1)
    weight, bias = least_squares(x1.T @ x1, x1.T @ y, ridge=0.0)
    assert weight.shape == (3, 5) and bias.shape == (3,)
    torch.testing.assert_close(weight, true_weight)
    torch.testing.assert_close(bias, torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    # a ridge shrinks the weights, not the bias
    shrunk, shrunk_bias = least_squares(x1.T @ x1, x1.T @ y, ridge=1.0)
    assert shrunk.norm() < 0.8 * weight.norm()
    assert (shrunk_bias - bias).abs().max() < 0.2


def test_linear_sums_normalise_remove_the_cycle_and_weight_each_window_by_its_variance():
    generator = torch.Generator().manual_seed(1)
    b, c, w = 7, 3, 5
    past = torch.randn(b, LOOKBACK, c, generator=generator) * 4 + 2
    future = torch.randn(b, HORIZON, c, generator=generator) * 4 + 2
    phases = torch.randint(0, w, (b,), generator=generator)
    covariates = torch.zeros(b, LOOKBACK, 1)
    covariates[:, :, 0] = phases[:, None].float()
    batch = SimpleNamespace(past_target=past, future_target=future, past_covariates=covariates)
    periodic = PeriodicComponent(w, c)
    periodic.set_values(torch.randn(w, c, generator=generator))
    gram, cross, n = linear_sums([batch, batch], LOOKBACK, HORIZON, RINorm(c), periodic)
    assert n == 2 * b * c
    assert linear_sums([batch, batch], LOOKBACK, HORIZON, max_batches=1)[2] == b * c
    assert gram.shape == (LOOKBACK + 1, LOOKBACK + 1) and cross.shape == (LOOKBACK + 1, HORIZON)
    # the same sums, sequence by sequence
    cycle = periodic.values().detach().double().numpy()
    expected_gram = np.zeros((LOOKBACK + 1, LOOKBACK + 1))
    expected_cross = np.zeros((LOOKBACK + 1, HORIZON))
    for i in range(b):
        steps = (int(phases[i]) + np.arange(LOOKBACK + HORIZON)) % w
        for k in range(c):
            x, y = past[i, :, k].double().numpy(), future[i, :, k].double().numpy()
            var = x.var() + 1e-5
            x = (x - x.mean()) / np.sqrt(var) - cycle[steps[:LOOKBACK], k]
            y = (y - past[i, :, k].double().numpy().mean()) / np.sqrt(var)
            y = y - cycle[steps[LOOKBACK:], k]
            x1 = np.append(x, 1.0)
            expected_gram += 2 * var * np.outer(x1, x1)
            expected_cross += 2 * var * np.outer(x1, y)
    np.testing.assert_allclose(gram.numpy(), expected_gram, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(cross.numpy(), expected_cross, rtol=1e-4, atol=1e-3)


def test_linear_sums_refuse_an_empty_loader():
    with pytest.raises(ValueError, match="no training batches"):
        linear_sums([], LOOKBACK, HORIZON)


def test_set_map_stores_the_map_divided_by_the_gain_and_refuses_another_shape():
    path = LinearPath(4, 2, gain=5.0)
    weight, bias = torch.arange(8.0).view(2, 4), torch.tensor([1.0, -1.0])
    path.set_map(weight, bias)
    torch.testing.assert_close(path.weight * 5.0, weight)
    torch.testing.assert_close(path(torch.ones(1, 4)), (weight.sum(1) + bias)[None])
    with pytest.raises(ValueError, match=r"a map of shapes \(2, 4\) and \(2,\) is needed"):
        path.set_map(torch.zeros(4, 2), bias)


# ---------------------------------------------------------------------------- the model


@pytest.mark.parametrize("cycle_length", [None, 24])
def test_the_linear_path_starts_at_the_weighted_least_squares_map(quiet_trainer, cycle_length):
    series = _series()
    model = _model(quiet_trainer, cycle_length=cycle_length, linear_gain=3.0).fit(series)
    cycle = None
    if cycle_length:
        cycle = model.model.periodic.values().detach().double().numpy()
    expected_weight, expected_bias = _expected_map(series.values(), cycle, first_phase=5)
    weight, bias = _path_map(model)
    np.testing.assert_allclose(weight, expected_weight, atol=2e-4)
    np.testing.assert_allclose(bias, expected_bias, atol=2e-4)


def test_a_started_linear_path_forecasts_a_noise_free_signal_closely(quiet_trainer):
    series = _series(noise=0.0, components=1)
    train, test = series[:-HORIZON], series[-HORIZON:]
    errors = {}
    for start in ("lstsq", "random"):
        model = _model(quiet_trainer, cycle_length=None, linear_init=start).fit(train)
        forecast = model.predict(HORIZON, series=train)
        errors[start] = float(np.mean((forecast.values() - test.values()) ** 2))
    # the read-out starts at zero: a fresh model forecasts with its linear path alone
    assert errors["lstsq"] < 1e-3, errors
    assert errors["random"] > 100 * errors["lstsq"], errors


def test_quantiles_start_alike_and_other_likelihoods_are_refused(quiet_trainer):
    model = _model(quiet_trainer, likelihood=QuantileRegression([0.1, 0.5, 0.9])).fit(_series())
    weight, bias = _path_map(model)  # rows (h, r) flattened: h * 3 + r
    np.testing.assert_allclose(weight[0::3], weight[1::3])
    np.testing.assert_allclose(bias[2::3], bias[1::3])
    with pytest.raises(ValueError, match="linear_init='lstsq' works with point forecasts"):
        _model(quiet_trainer, cycle_length=None, likelihood=GaussianLikelihood())


def test_a_trained_or_loaded_linear_path_is_not_started_again(quiet_trainer, tmp_path):
    series = _series()
    model = _model(quiet_trainer).fit(series)
    with torch.no_grad():
        model.model.skip.weight.zero_()
    model.fit(series)  # darts continues with the same module
    assert not model.model.skip.weight.any()
    path = str(tmp_path / "m.pt")
    model.save(path)
    loaded = CircuitNetModel.load(path)
    assert loaded.model._linear_path_started
    assert not loaded.model.skip.weight.any()


def test_the_default_start_and_bad_values(quiet_trainer):
    # "auto": the far start where a start applies, the uniform one where none does
    assert CircuitNetModel(24, 6).config.linear_init == "lstsq_far"
    quantiles = QuantileRegression([0.1, 0.5, 0.9])
    assert CircuitNetModel(24, 6, likelihood=quantiles).config.linear_init == "lstsq_far"
    gaussian = CircuitNetModel(24, 6, likelihood=GaussianLikelihood())
    assert gaussian.config.linear_init == "random"
    assert CircuitNetModel(24, 6, linear_skip=False).config.linear_init == "random"
    assert CircuitConfig().linear_init == "random"  # the bare network has no training start
    assert LEGACY_VALUES["linear_init"] == "random"
    legacy = {k: v for k, v in CircuitConfig().as_dict().items() if k != "linear_init"}
    assert CircuitConfig.from_dict(legacy).linear_init == "random"
    with pytest.raises(ValueError, match="linear_init='ols' is not one of"):
        CircuitConfig(linear_init="ols")
    with pytest.raises(ValueError, match=r"is not one of \('auto', 'random'"):
        CircuitNetModel(24, 6, linear_init="ols")
    with pytest.raises(ValueError, match="linear_skip=False turns off"):
        CircuitNetModel(24, 6, linear_init="lstsq", linear_skip=False)


def test_lstsq_far_starts_only_the_steps_the_linear_path_forecasts_alone(quiet_trainer):
    series = _series()
    full = _path_map(_model(quiet_trainer, readout_steps=2).fit(series))
    far = _path_map(_model(quiet_trainer, readout_steps=2, linear_init="lstsq_far").fit(series))
    drawn = _path_map(_model(quiet_trainer, readout_steps=2, linear_init="random").fit(series))
    for got, lstsq, random_start in zip(far, full, drawn, strict=True):
        np.testing.assert_allclose(got[:2], random_start[:2])  # the circuit's steps
        np.testing.assert_allclose(got[2:], lstsq[2:], atol=1e-6)  # the linear path's alone
    # the default ("auto") is this start
    auto = _path_map(_model(quiet_trainer, readout_steps=2, linear_init="auto").fit(series))
    for got, expected in zip(auto, far, strict=True):
        np.testing.assert_array_equal(got, expected)
    # where the circuit covers the horizon, the model is 0.4's, forecasts included
    covered = _model(quiet_trainer, linear_init="lstsq_far").fit(series)
    default = _model(quiet_trainer, linear_init="random").fit(series)
    for got, expected in zip(_path_map(covered), _path_map(default), strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        covered.predict(HORIZON, series=series).values(),
        default.predict(HORIZON, series=series).values(),
    )
