"""Messages across the target components (``variable_exchange``): the layer, its place in
the network, and a fitted model through every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries

from cnforecast import CircuitNetModel
from cnforecast.inference import NetworkPredictor, OnnxRunner, save_onnx
from cnforecast.layers import CircuitConfig
from cnforecast.layers.config import LEGACY_VALUES
from cnforecast.layers.network import CircuitNetwork, NetworkShape
from cnforecast.layers.variable_exchange import VariableExchange
from cnforecast.models.registry import MODELS

TINY = dict(MODELS["circuitnet"].test_settings)
NET = {"d_model": 8, "n_heads": 2, "n_units": 3, "n_neurons": 4, "n_ports": 2, "patch_len": 8}


def _trained(exchange: VariableExchange) -> VariableExchange:
    """The map back starts at zero; give it the weights it has after training."""
    torch.manual_seed(3)
    with torch.no_grad():
        torch.nn.init.normal_(exchange.out.weight, std=0.3)
        torch.nn.init.normal_(exchange.queries, std=1.0)
    return exchange


def _series(periods=200, start="2024-01-01 05:00", components=3) -> TimeSeries:
    index = pd.date_range(start, periods=periods, freq="h")
    hour = np.arange(periods)[:, None]
    values = np.sin(2 * np.pi * (hour + 4 * np.arange(components)) / 24) + 0.05 * hour / periods
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


# ------------------------------------------------------------------------------- the layer
def test_a_new_exchange_adds_nothing_and_keeps_the_shape():
    exchange = VariableExchange(lookback=32, n_targets=4, d_model=8, n_heads=2, cycle_length=24)
    windows = torch.randn(6, 32, 4)
    out = exchange(windows, torch.arange(6))
    assert out.shape == (6, 32, 4)
    torch.testing.assert_close(out, windows, rtol=0, atol=0)


def test_each_component_reads_the_others():
    exchange = _trained(VariableExchange(32, 3, 8, 2, cycle_length=24)).eval()
    windows = torch.randn(2, 32, 3)
    other = windows.clone()
    other[:, :, 2] += 1.0  # change component 2 only
    phase = torch.tensor([0, 5])
    moved = exchange(other, phase) - exchange(windows, phase)
    # components 0 and 1 receive a different message; a batch row never reads another row
    assert moved[:, :, :2].abs().amax() > 1e-4
    one = exchange(other[:1], phase[:1]) - exchange(windows[:1], phase[:1])
    torch.testing.assert_close(one, moved[:1])


def test_the_queries_follow_the_phase_and_wrap_around_the_cycle():
    exchange = _trained(VariableExchange(32, 3, 8, 2, cycle_length=24)).eval()
    windows = torch.randn(1, 32, 3).expand(3, -1, -1)
    out = exchange(windows, torch.tensor([0, 7, 24]))
    assert (out[0] - out[1]).abs().amax() > 1e-4  # another phase, other queries
    torch.testing.assert_close(out[0], out[2])  # phase 24 is phase 0 of a 24-step cycle


def test_every_weight_of_the_exchange_learns():
    exchange = _trained(VariableExchange(16, 3, 8, 2, cycle_length=4))
    exchange(torch.randn(5, 16, 3), torch.arange(5)).pow(2).sum().backward()
    for name, param in exchange.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_the_exchange_weighs_w_times_c_queries_and_four_maps_of_the_lookback():
    exchange = VariableExchange(lookback=96, n_targets=862, d_model=64, n_heads=4, cycle_length=24)
    maps = 3 * (96 * 64 + 64) + (64 * 96 + 96)
    assert sum(p.numel() for p in exchange.parameters()) == 24 * 862 + maps


def test_the_exchange_refuses_windows_of_another_width_and_bad_sizes():
    exchange = VariableExchange(16, 3, 8, 2)
    with pytest.raises(ValueError, match="built for 3 target component"):
        exchange(torch.randn(2, 16, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible by n_heads"):
        VariableExchange(16, 3, 10, 4)


# ----------------------------------------------------------------------- in the network
def test_a_fresh_network_with_the_exchange_forecasts_as_one_without():
    """The exchange is built last and starts at zero: every other weight, and so the
    forecast of a new model, is the same as without it."""
    shape = NetworkShape(32, 8)
    nets = []
    for exchange in (False, True):
        torch.manual_seed(0)
        config = CircuitConfig(**NET, cycle_length=24, variable_exchange=exchange)
        net = CircuitNetwork(config, shape, n_targets=3).eval()
        torch.manual_seed(1)
        torch.nn.init.normal_(net.readout.head.weight, std=0.1)  # as trained
        nets.append(net)
    plain, mixed = nets
    windows, phase = torch.randn(4, 32, 3), torch.arange(4)
    torch.testing.assert_close(mixed(windows, phase=phase), plain(windows, phase=phase))
    _trained(mixed.exchange)
    assert (mixed(windows, phase=phase) - plain(windows, phase=phase)).abs().amax() > 1e-4


def test_the_exchange_needs_the_components_and_a_boolean():
    config = CircuitConfig(**NET, variable_exchange=True)
    with pytest.raises(ValueError, match="variable_exchange needs n_targets"):
        CircuitNetwork(config, NetworkShape(32, 8))
    with pytest.raises(ValueError, match="variable_exchange must be True or False"):
        CircuitConfig(**NET, variable_exchange="yes")
    with pytest.raises(ValueError, match="divisible by n_heads=3 when variable_exchange"):
        CircuitConfig(d_model=8, n_heads=3, motifs="linear+product", variable_exchange=True)
    # configurations saved before the option existed load without it
    assert LEGACY_VALUES["variable_exchange"] is False
    saved = {k: v for k, v in CircuitConfig().as_dict().items() if k != "variable_exchange"}
    assert CircuitConfig.from_dict(saved).variable_exchange is False


@pytest.mark.parametrize("n_targets", [7, 321, 862])
def test_the_default_model_with_the_exchange_stays_under_a_million_parameters(n_targets):
    config = CircuitConfig(cycle_length=24, linear_init="lstsq_far", variable_exchange=True)
    net = CircuitNetwork(config, NetworkShape(96, 720), n_targets=n_targets)
    assert sum(p.numel() for p in net.parameters()) < 1_000_000
    # and forecasts a wide batch
    with torch.no_grad():
        out = CircuitNetwork(config, NetworkShape(96, 96), n_targets=n_targets)(
            torch.randn(2, 96, n_targets), phase=torch.tensor([0, 13])
        )
    assert out.shape == (2, 96, n_targets, 1) and torch.isfinite(out).all()


# ------------------------------------------------------------------------ a fitted model
@pytest.fixture(scope="module")
def exchange_models() -> dict[str, CircuitNetModel]:
    trainer = {"enable_progress_bar": False, "logger": False, "enable_model_summary": False}
    series = [_series(), _series(start="2024-02-01 17:00")]
    return {
        str(cycle): CircuitNetModel(
            24,
            6,
            random_state=0,
            variable_exchange=True,
            cycle_length=cycle,
            pl_trainer_kwargs=trainer,
            **{**TINY, "n_epochs": 2},
        ).fit(series)
        for cycle in (24, None)
    }


@pytest.mark.parametrize("cycle", ["24", "None"])
def test_a_fitted_exchange_forecasts_alike_in_darts_the_network_and_onnx(
    exchange_models, cycle, tmp_path
):
    model = exchange_models[cycle]
    assert model.model.exchange.out.weight.abs().sum() > 0  # it learned something
    series = [_series(periods=60 + k, start=f"2024-03-0{k + 1} 0{k}:00") for k in range(3)]
    expected = model.predict(9, series)
    network = model.export_network()
    onnx = NetworkPredictor(OnnxRunner(save_onnx(network, tmp_path / "net.onnx")))
    for predictor in (NetworkPredictor(network), onnx):
        for a, b in zip(expected, predictor.predict(9, series)):
            np.testing.assert_allclose(b.values(), a.values(), rtol=1e-5, atol=1e-5)


def test_a_saved_exchange_model_loads_and_forecasts_the_same(exchange_models, tmp_path):
    model = exchange_models["24"]
    model.save(str(tmp_path / "model.pt"))
    loaded = CircuitNetModel.load(str(tmp_path / "model.pt"))
    assert loaded.config.variable_exchange
    series = _series(periods=80)
    np.testing.assert_allclose(
        loaded.predict(6, series).values(), model.predict(6, series).values(), rtol=1e-6
    )


def test_an_exchange_model_refuses_a_series_of_another_width(exchange_models):
    with pytest.raises(ValueError, match="component"):
        exchange_models["24"].predict(6, _series(components=2))
