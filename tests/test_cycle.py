"""The learned cycle (``cycle_length``): its layer, the phase darts feeds it, and its limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries
from darts.utils.likelihood_models import GaussianLikelihood, QuantileRegression

from cnforecast import CircuitNetModel
from cnforecast.cycle_phase import CyclePhase, time_positions
from cnforecast.inference import NetworkPredictor, OnnxRunner, save_onnx
from cnforecast.layers import CircuitConfig
from cnforecast.layers.network import CircuitNetwork, NetworkShape
from cnforecast.layers.periodic import CYCLE_GAIN, PeriodicComponent, phase_sums
from cnforecast.models.registry import MODELS

TINY = dict(MODELS["circuitnet"].test_settings)


def _series(periods=300, start="2024-01-01 05:00", freq="h", components=2) -> TimeSeries:
    index = pd.date_range(start, periods=periods, freq=freq)
    hour = np.arange(periods)
    values = np.stack([np.sin(2 * np.pi * (hour + k) / 24) for k in range(components)], 1)
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


def _model(quiet_trainer, **kw) -> CircuitNetModel:
    settings = {**TINY, "n_epochs": 1, "cycle_length": 24, **kw}
    return CircuitNetModel(24, 6, random_state=0, pl_trainer_kwargs=quiet_trainer, **settings)


# ------------------------------------------------------------------------------- the layer
def test_the_periodic_component_reads_the_cycle_at_each_windows_steps():
    periodic = PeriodicComponent(4, 2)
    with torch.no_grad():
        periodic.cycle.copy_(torch.tensor([[0.0, 10], [1, 11], [2, 12], [3, 13]]) / CYCLE_GAIN)
    out = periodic(torch.tensor([0, 3]), start=1, steps=5)  # (B, steps, C)
    assert out.shape == (2, 5, 2)
    assert out[0, :, 0].tolist() == [1, 2, 3, 0, 1]  # phase 0, steps 1..5, wrapping at 4
    assert out[1, :, 1].tolist() == [10, 11, 12, 13, 10]  # phase 3: step 1 is position 0
    out.sum().backward()
    assert periodic.cycle.grad is not None


def test_a_network_with_a_cycle_needs_the_phase_and_has_w_times_c_more_weights():
    config = CircuitConfig(d_model=8, n_heads=2, cycle_length=24)
    net = CircuitNetwork(config, NetworkShape(32, 8), n_targets=3)
    plain = CircuitNetwork(CircuitConfig(d_model=8, n_heads=2), NetworkShape(32, 8), n_targets=3)
    count = sum(p.numel() for p in net.parameters()) - sum(p.numel() for p in plain.parameters())
    assert count == 24 * 3
    assert net(torch.randn(5, 32, 3), phase=torch.arange(5)).shape == (5, 8, 3, 1)
    with pytest.raises(ValueError, match="pass the phase"):
        net(torch.randn(5, 32, 3))
    with pytest.raises(ValueError, match="needs n_targets"):
        CircuitNetwork(config, NetworkShape(32, 8))
    with pytest.raises(ValueError, match="cycle_length must be an integer >= 2"):
        CircuitConfig(cycle_length=1)


def test_the_cycle_is_what_the_network_adds_at_the_forecast_steps():
    config = CircuitConfig(d_model=8, n_heads=2, cycle_length=6)
    net = CircuitNetwork(config, NetworkShape(12, 4, output_chunk_shift=2), n_targets=1).eval()
    x = torch.randn(2, 12, 1)
    phase = torch.tensor([0, 4])
    before = net(x, phase=phase)
    with torch.no_grad():
        net.periodic.set_values(torch.arange(6.0)[:, None])
        # the input loses the cycle at its own steps: give it back so the circuit sees x
        shifted = x + net.periodic(phase, 0, 12)
    after = net(shifted, phase=phase)
    # forecast steps start at L + shift = 14 steps after the first input step
    expected = torch.tensor([[14, 15, 16, 17], [18, 19, 20, 21]]) % 6
    torch.testing.assert_close(after - before, expected[..., None, None].float())


def test_phase_sums_add_each_step_at_its_position_in_the_cycle():
    values = torch.arange(12.0).reshape(2, 3, 2)  # (B, L, C)
    sums, counts = phase_sums(values, torch.tensor([3, 1]), 4)
    assert sums.shape == (4, 2) and sums.dtype == torch.float64
    # window 0 covers positions 3, 0, 1; window 1 covers 1, 2, 3
    assert counts.tolist() == [1, 2, 1, 2]
    assert sums[:, 0].tolist() == [2.0, 4.0 + 6, 8.0, 0.0 + 10]
    assert sums[:, 1].tolist() == [3.0, 5.0 + 7, 9.0, 1.0 + 11]


def test_set_values_sets_one_period_and_refuses_another_shape():
    periodic = PeriodicComponent(4, 2, gain=5.0)
    values = torch.arange(8.0).reshape(4, 2)
    periodic.set_values(values)
    torch.testing.assert_close(periodic.values(), values)
    torch.testing.assert_close(periodic.cycle.detach(), values / 5.0)
    with pytest.raises(ValueError, match=r"\(W, C\)"):
        periodic.set_values(torch.zeros(3, 2))


# ---------------------------------------------------------------------------- the phase
def test_phases_count_steps_from_one_origin_in_wall_clock_time():
    hourly = pd.date_range("2024-01-01 22:00", periods=4, freq="h")
    assert CyclePhase(24)(hourly).tolist() == [22, 23, 0, 1]
    quarter = pd.date_range("2024-01-01 23:30", periods=3, freq="15min")
    assert CyclePhase(96)(quarter).tolist() == [94, 95, 0]
    local = pd.date_range("2024-06-01 00:00", periods=2, freq="h", tz="Europe/Paris")
    assert CyclePhase(24)(local).tolist() == [0, 1]  # the local clock's hour
    assert CyclePhase(7)(pd.RangeIndex(0, 20, 2)).tolist()[:4] == [0, 1, 2, 3]
    assert time_positions(pd.date_range("1970-01-03", periods=2, freq="D")).tolist() == [2, 3]
    for freq in ("MS", "W", "B"):
        with pytest.raises(ValueError, match="fixed time step"):
            time_positions(pd.date_range("2024-01-01", periods=5, freq=freq))


def test_the_network_reads_the_phase_of_each_windows_first_step(quiet_trainer, monkeypatch):
    model = _model(quiet_trainer).fit(_series())
    seen = []
    run = type(model.model).run_layers

    def spy(self, *args):
        seen.append(args[4].tolist())
        return run(self, *args)

    monkeypatch.setattr(type(model.model), "run_layers", spy)
    series = _series(periods=50, start="2024-03-01 07:00")
    model.predict(6, series)
    first_input = series.time_index[-24]  # L = 24 steps before the forecast
    assert seen == [[first_input.hour]]
    # user past covariates stay ahead of the phase, and the network's input width is theirs
    covariate = _series(periods=300, components=1).with_columns_renamed("0", "cov")
    model = _model(quiet_trainer).fit(_series(), past_covariates=covariate)
    assert model.model.network_shape.past_cov_dim == 1
    assert model.predict(6, _series(), past_covariates=covariate).n_timesteps == 6


# ---------------------------------------------------------------------------- the model
def test_a_model_with_a_cycle_predicts_saves_loads_and_backtests(quiet_trainer, tmp_path):
    series = _series()
    model = _model(quiet_trainer).fit(series[:250])
    forecast = model.predict(15, series[:250])  # a roll-out of 3 chunks
    model.save(str(tmp_path / "m.pt"))
    loaded = CircuitNetModel.load(str(tmp_path / "m.pt"))
    np.testing.assert_array_equal(loaded.predict(15, series[:250]).values(), forecast.values())
    backtest = model.historical_forecasts(series, start=250, forecast_horizon=6, retrain=False)
    assert len(backtest) == 45
    integer = TimeSeries.from_values(series.values())  # an integer index works too
    assert _model(quiet_trainer).fit(integer).predict(6).n_timesteps == 6


def test_the_cycle_is_learned_in_phase(quiet_trainer):
    """A fixed daily shape under a random level per day: the learned cycle follows the
    shape hour by hour (a phase read wrongly would give no or a negative correlation)."""
    rng = np.random.default_rng(0)
    hours = np.arange(24 * 120)
    shape = np.where(hours % 24 < 12, 1.0, -1.0)
    values = shape + np.repeat(rng.normal(0, 0.3, 120), 24) + rng.normal(0, 0.05, len(hours))
    series = TimeSeries.from_times_and_values(
        pd.date_range("2024-01-01", periods=len(hours), freq="h"),
        values.astype(np.float32),
    )
    model = _model(quiet_trainer, n_epochs=4, optimizer_kwargs={"lr": 1e-2}).fit(series)
    cycle = model.model.periodic.values().detach()[:, 0].numpy()
    # the circuit and the linear path see the shape too, so the cycle holds only part of it
    assert np.corrcoef(cycle, shape[:24])[0, 1] > 0.5, cycle


def _expected_cycle_start(values: np.ndarray, first_phase: int, lookback: int, horizon: int):
    """The mean instance-normalised training window per phase, window by window in numpy."""
    sums, counts = np.zeros((24, values.shape[1])), np.zeros(24)
    for start in range(len(values) - lookback - horizon + 1):
        window = values[start : start + lookback].astype(np.float64)
        normalised = (window - window.mean(0)) / np.sqrt(window.var(0) + 1e-5)
        positions = (first_phase + start + np.arange(lookback)) % 24
        np.add.at(sums, positions, normalised)
        np.add.at(counts, positions, 1)
    return sums / counts[:, None]


def test_cycle_init_mean_starts_the_cycle_at_the_mean_normalised_window_per_phase(
    quiet_trainer,
):
    rng = np.random.default_rng(1)
    series = _series(periods=200)
    series = series.with_values(series.values() * [[3.0, 0.5]] + rng.normal(0, 0.2, (200, 2)))
    # no step is taken (lr 0): the cycle after fit is where it started
    model = _model(quiet_trainer, cycle_init="mean", optimizer_kwargs={"lr": 0.0}).fit(series)
    expected = _expected_cycle_start(series.values(), 5, 24, 6)  # starts at 05:00: phase 5
    np.testing.assert_allclose(model.model.periodic.values().detach().numpy(), expected, atol=1e-4)
    # "zero" starts at zero, as CycleNet; the default is "mean"
    zero = _model(quiet_trainer, cycle_init="zero", optimizer_kwargs={"lr": 0.0}).fit(series)
    assert not zero.model.periodic.values().detach().any()
    default = _model(quiet_trainer, optimizer_kwargs={"lr": 0.0}).fit(series)
    torch.testing.assert_close(default.model.periodic.values(), model.model.periodic.values())


def test_the_cycle_gain_follows_the_start_unless_given():
    assert CircuitNetModel(24, 6).config.cycle_init == "mean"
    assert CircuitNetModel(24, 6).config.cycle_gain == 1.0
    assert CircuitNetModel(24, 6, cycle_init="zero").config.cycle_gain == CYCLE_GAIN
    assert CircuitNetModel(24, 6, cycle_init="zero", cycle_gain=3).config.cycle_gain == 3
    assert CircuitConfig(cycle_gain=None).cycle_gain == 1.0


def test_a_cycle_already_learned_is_not_started_again(quiet_trainer):
    series = _series()
    model = _model(quiet_trainer, cycle_init="mean").fit(series)
    learned = model.model.periodic.values().detach().clone()
    model.model.on_train_start()  # what a resumed fit calls: the cycle is not zero any more
    torch.testing.assert_close(model.model.periodic.values().detach(), learned)


def test_a_bad_cycle_init_is_refused():
    with pytest.raises(ValueError, match="cycle_init='data' is not one of"):
        CircuitConfig(cycle_init="data")
    with pytest.raises(ValueError, match="cycle_init"):
        CircuitNetModel(24, 6, cycle_init="data")


def test_what_a_cycle_cannot_be_combined_with_is_refused(quiet_trainer):
    with pytest.raises(ValueError, match="point forecasts and QuantileRegression"):
        _model(quiet_trainer, likelihood=GaussianLikelihood())
    with pytest.raises(ValueError, match="'transformer'"):
        _model(quiet_trainer, add_encoders={"transformer": object()})
    quantiles = _model(quiet_trainer, likelihood=QuantileRegression([0.1, 0.5, 0.9]))
    assert quantiles.fit(_series()).predict(6, num_samples=20).n_samples == 20
    monthly = TimeSeries.from_times_and_values(
        pd.date_range("2000-01-01", periods=60, freq="MS"), np.arange(60.0, dtype=np.float32)
    )
    with pytest.raises(ValueError, match="fixed time step"):
        _model(quiet_trainer).fit(monthly)


@pytest.fixture(scope="module")
def cycle_model() -> CircuitNetModel:
    trainer = {"enable_progress_bar": False, "logger": False, "enable_model_summary": False}
    settings = {**TINY, "n_epochs": 1, "cycle_length": 24}
    return CircuitNetModel(24, 6, random_state=0, pl_trainer_kwargs=trainer, **settings).fit(
        [_series(), _series(start="2024-02-01 17:00")]
    )


@pytest.mark.parametrize("n", [1, 6, 15])
def test_the_darts_free_engines_forecast_a_cycle_as_darts_does(cycle_model, tmp_path, n):
    # series ending at different hours: each window has its own phase, and roll-outs move it
    series = [_series(periods=60 + k, start=f"2024-03-0{k + 1} 0{k}:00") for k in range(3)]
    expected = cycle_model.predict(n, series)
    network = cycle_model.export_network()
    onnx = NetworkPredictor(OnnxRunner(save_onnx(network, tmp_path / "net.onnx")))
    for predictor in (NetworkPredictor(network), onnx):
        assert predictor.cycle_length == 24
        for a, b in zip(expected, predictor.predict(n, series)):
            np.testing.assert_allclose(b.values(), a.values(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="give the phase"):
        NetworkPredictor(network).forecast(np.zeros((2, 24, 2)), 6)


def test_auto_picks_the_cycle_of_the_frequency_at_fit(quiet_trainer):
    model = _model(quiet_trainer, cycle_length="auto")
    assert model.config.cycle_length is None  # not known before the data
    model.fit(_series(freq="15min", periods=300))
    assert model.config.cycle_length == 96 and model.model.periodic.cycle.shape == (96, 2)
    again = model.untrained_model().fit(_series())  # hourly: a day is 24 steps
    assert again.model.periodic.cycle.shape == (24, 2)
    assert again.predict(6).n_timesteps == 6
    integer = TimeSeries.from_values(_series().values())
    plain = _model(quiet_trainer, cycle_length="auto").fit(integer)
    assert plain.model.periodic is None and plain.add_encoders is None
    gaussian = _model(quiet_trainer, cycle_length="auto", likelihood=GaussianLikelihood())
    assert gaussian.fit(_series()).model.periodic is None  # the cycle does not apply
