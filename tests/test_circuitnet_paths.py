"""The linear path's and the cycle's gains: the map, its weights, how fast it learns."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from darts.utils.data.torch_datasets.utils import TorchTrainingSample
from torch import nn

from cnforecast import CircuitNetModel
from cnforecast.layers import CircuitConfig, LinearPath
from cnforecast.layers.config import LEGACY_VALUES
from cnforecast.layers.network import CircuitNetwork, NetworkShape
from cnforecast.layers.periodic import CYCLE_GAIN, PeriodicComponent


def test_a_linear_path_with_a_gain_starts_as_the_same_map():
    torch.manual_seed(0)
    plain = nn.Linear(16, 5)
    torch.manual_seed(0)
    gained = LinearPath(16, 5, gain=10.0)
    x = torch.randn(7, 16)
    torch.testing.assert_close(gained(x), plain(x))
    # stored divided by the gain
    torch.testing.assert_close(gained.weight * 10.0, plain.weight)


def test_a_linear_path_with_gain_one_is_an_nn_linear_state_dict_and_all():
    torch.manual_seed(0)
    plain = nn.Linear(16, 5)
    torch.manual_seed(0)
    path = LinearPath(16, 5)
    assert plain.state_dict().keys() == path.state_dict().keys()
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(path.state_dict()[key], value)


def test_under_adam_the_map_moves_gain_times_faster():
    x, y = torch.randn(32, 16), torch.randn(32, 5)

    def moved(module, gain):
        before = module.weight.detach().clone() * gain
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        nn.functional.mse_loss(module(x), y).backward()
        optimizer.step()
        return (module.weight.detach() * gain - before).abs()

    torch.manual_seed(0)
    plain = moved(nn.Linear(16, 5), 1.0)
    torch.manual_seed(0)
    gained = moved(LinearPath(16, 5, gain=10.0), 10.0)
    # Adam's first step is lr * sign(gradient) on every weight, whatever the weight's scale
    torch.testing.assert_close(plain, torch.full_like(plain, 1e-3), rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(gained, torch.full_like(gained, 1e-2), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", ["linear_gain", "cycle_gain"])
@pytest.mark.parametrize("gain", [0, -1.0, True, "10", float("nan")])
def test_a_bad_gain_is_refused(name, gain):
    with pytest.raises(ValueError, match=name):
        CircuitConfig(**{name: gain})
    with pytest.raises(ValueError, match=name):
        CircuitNetModel(24, 6, **{name: gain})
    if name == "cycle_gain" and not isinstance(gain, str | bool):
        with pytest.raises(ValueError, match="gain must be positive"):
            PeriodicComponent(24, 2, gain=gain)


def test_the_cycle_is_stored_divided_by_its_gain_and_moves_gain_times_faster_under_adam():
    def first_step(periodic):
        optimizer = torch.optim.Adam(periodic.parameters(), lr=1e-3)
        before = periodic.values().detach().clone()
        out = periodic(torch.tensor([0, 1, 2]), start=0, steps=4)  # (B, steps, C)
        ((out - 1.0) ** 2).mean().backward()
        optimizer.step()
        return (periodic.values().detach() - before).abs()

    default, fast = PeriodicComponent(4, 2), PeriodicComponent(4, 2, gain=30.0)
    assert default.gain == CYCLE_GAIN == CircuitConfig(cycle_init="zero").cycle_gain
    with torch.no_grad():
        fast.cycle.fill_(0.5 / 30.0)
    torch.testing.assert_close(fast.values(), torch.full((4, 2), 0.5))
    fast.cycle.data.zero_()
    # every cycle position is seen, so Adam's first step moves each by lr * gain
    torch.testing.assert_close(first_step(default), torch.full((4, 2), 1e-3 * CYCLE_GAIN))
    torch.testing.assert_close(first_step(fast), torch.full((4, 2), 1e-3 * 30.0))


def test_the_cycle_gain_reaches_the_network():
    config = CircuitConfig(d_model=8, n_heads=2, cycle_length=24, cycle_gain=30)
    net = CircuitNetwork(config, NetworkShape(32, 8), n_targets=3)
    assert net.periodic.gain == 30.0
    assert CircuitNetModel(24, 6, cycle_gain=30).config.cycle_gain == 30


@pytest.mark.parametrize("n_targets", [7, 321])
def test_a_weekly_cycle_keeps_the_default_model_under_a_million_parameters_at_h720(n_targets):
    # a weekly cycle of hourly data (W = 168, more than "auto" picks for hourly data)
    model = CircuitNetModel(96, 720, cycle_length=168)
    sample = TorchTrainingSample(
        past_target=np.zeros((96, n_targets), np.float32),
        past_covariates=np.zeros((96, 1), np.float32),  # the phase
        future_target=np.zeros((720, n_targets), np.float32),
    )
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    module = model._create_model(sample)
    assert module.periodic is not None
    assert sum(p.numel() for p in module.parameters()) < 1_000_000


def test_the_default_linear_path_is_a_plain_linear_layer():
    assert CircuitNetModel(24, 6).config.linear_gain == CircuitConfig().linear_gain == 1.0
    assert CircuitNetModel(24, 6, linear_gain=3).config.linear_gain == 3


@pytest.mark.parametrize("name", sorted(LEGACY_VALUES))
def test_a_configuration_saved_before_a_field_existed_loads_as_the_model_it_was(name):
    # a CircuitConfig pickled inside a saved model (or a network file's config) from before
    # the field: it takes the value that model was trained with, whatever today's default
    old = CircuitConfig(d_model=8, n_heads=2)
    object.__delattr__(old, name)
    loaded = pickle.loads(pickle.dumps(old))
    assert getattr(loaded, name) == LEGACY_VALUES[name]
    assert loaded.d_model == 8
    record = {k: v for k, v in CircuitConfig(d_model=8).as_dict().items() if k != name}
    assert getattr(CircuitConfig.from_dict(record), name) == LEGACY_VALUES[name]
    # a field that is there keeps its value
    other = {
        "linear_gain": 2.0,
        "cycle_gain": 2.0,
        "cycle_init": "mean",
        "readout_init": "random",
        "linear_init": "lstsq_far",
        "variable_exchange": True,
    }[name]
    assert getattr(CircuitConfig.from_dict({name: other}), name) == other
