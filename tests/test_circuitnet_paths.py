"""The linear path's gain and the channel identity vectors: shapes, gradients, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from darts.utils.data.torch_datasets.utils import TorchTrainingSample
from torch import nn

from cnforecast import CircuitNetModel
from cnforecast.layers import ChannelIdentity, CircuitConfig, LinearPath
from cnforecast.layers.network import CircuitNetwork, NetworkShape

SMALL = {"d_model": 8, "n_units": 3, "n_neurons": 4, "n_ports": 2, "n_heads": 2}


def small_network(n_targets=3, **config):
    torch.manual_seed(0)
    network = CircuitNetwork(
        CircuitConfig(**{**SMALL, **config}), NetworkShape(24, 6), n_targets=n_targets
    )
    # the read-out's last map starts at zero: give it trained-like weights so the circuit
    # (and what enters it) shows in the forecast
    nn.init.normal_(network.readout.head.weight, std=0.1)
    return network


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


@pytest.mark.parametrize("gain", [0, -1.0, True, "10", float("nan")])
def test_a_bad_gain_is_refused(gain):
    with pytest.raises(ValueError, match="linear_gain"):
        CircuitConfig(linear_gain=gain)
    with pytest.raises(ValueError, match="linear_gain"):
        CircuitNetModel(24, 6, linear_gain=gain)


def test_channel_identity_shape_and_gradient():
    identity = ChannelIdentity(n_targets=3, d_model=8)
    patches = torch.randn(2, 3, 5, 8)
    out = identity(patches)
    assert out.shape == (2, 3, 5, 8)
    # the same vector on every patch of a component, a different one per component
    torch.testing.assert_close(out - patches, identity.embedding[None, :, None, :].expand(2, 3, 5, 8))
    out.pow(2).sum().backward()
    assert identity.embedding.grad is not None and identity.embedding.grad.abs().min() > 0
    with pytest.raises(ValueError, match="built for 3 target component"):
        identity(torch.randn(2, 4, 5, 8))


def test_channel_identity_tells_equal_windows_of_two_components_apart():
    window = torch.randn(2, 24, 1).expand(2, 24, 3).contiguous()  # three equal components
    with torch.no_grad():
        shared = small_network(channel_identity=False).eval()(window)
        told = small_network(channel_identity=True).eval()(window)
    torch.testing.assert_close(shared[:, :, 0], shared[:, :, 1])
    assert not torch.allclose(told[:, :, 0], told[:, :, 1])


def test_channel_identity_adds_c_times_d_weights_and_every_one_learns():
    def count(network):
        return sum(p.numel() for p in network.parameters())

    plain, told = small_network(5), small_network(5, channel_identity=True)
    assert count(told) - count(plain) == 5 * SMALL["d_model"]
    out = told(torch.randn(4, 24, 5))
    (out * torch.randn_like(out)).sum().backward()
    assert told.channel_identity.embedding.grad.abs().min() > 0
    with pytest.raises(ValueError, match="needs n_targets"):
        CircuitNetwork(CircuitConfig(channel_identity=True), NetworkShape(24, 6))


@pytest.mark.parametrize("n_targets", [7, 321])
def test_the_model_with_every_option_stays_under_a_million_parameters_at_h720(n_targets):
    # a weekly cycle of hourly data (the largest cycle "auto" does not pick), identity vectors
    model = CircuitNetModel(96, 720, cycle_length=168, channel_identity=True, linear_gain=10.0)
    sample = TorchTrainingSample(
        past_target=np.zeros((96, n_targets), np.float32),
        past_covariates=np.zeros((96, 1), np.float32),  # the phase
        future_target=np.zeros((720, n_targets), np.float32),
    )
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    module = model._create_model(sample)
    assert module.periodic is not None and module.channel_identity is not None
    assert sum(p.numel() for p in module.parameters()) < 1_000_000
