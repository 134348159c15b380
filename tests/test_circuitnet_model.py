"""What is special to CircuitNetModel: its options, wiring, errors and that it learns."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries
from darts.metrics import mse
from darts.models import NaiveSeasonal

from cnforecast import CircuitNetModel
from cnforecast.models import circuitnet as circuitnet_module
from cnforecast.models.registry import MODELS

TINY = dict(MODELS["circuitnet"].test_settings)


def _hourly(values: np.ndarray) -> TimeSeries:
    index = pd.date_range("2022-01-01", periods=len(values), freq="h")
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


def _tiny(quiet_trainer, lookback=24, horizon=6, **kw):
    return CircuitNetModel(
        lookback, horizon, random_state=0, pl_trainer_kwargs=quiet_trainer, **{**TINY, **kw}
    )


# --- the wiring ---------------------------------------------------------------------------


def test_wiring_is_saved_and_identical_after_load(quiet_trainer, tmp_path):
    series = _hourly(np.sin(np.arange(120) / 3.0))
    model = _tiny(quiet_trainer, n_units=6, n_links=2, wiring_seed=11).fit(series)
    graph = model.circuit_graph()
    assert "circuit.adjacency" in model.model.state_dict()
    model.save(str(tmp_path / "m.pt"))
    loaded = CircuitNetModel.load(str(tmp_path / "m.pt"))
    assert loaded.circuit_graph() == graph
    assert torch.equal(loaded.model.circuit.adjacency, model.model.circuit.adjacency)


def test_circuit_graph_before_fit_matches_the_trained_one(quiet_trainer):
    model = _tiny(quiet_trainer, n_units=7, n_links=2, wiring_seed=3)
    before = model.circuit_graph()
    model.fit(_hourly(np.cos(np.arange(100) / 4.0)))
    assert model.circuit_graph() == before
    assert max(before.in_degree()) <= 2 + 2
    kinds = {kind for _, _, kind in before.edges}
    assert kinds == {"neighbour", "long-range"}


def test_wiring_seed_changes_the_graph():
    a = CircuitNetModel(24, 6, n_units=10, n_links=2, wiring_seed=0).circuit_graph()
    b = CircuitNetModel(24, 6, n_units=10, n_links=2, wiring_seed=1).circuit_graph()
    assert a != b


# --- options and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"motifs": ()}, "motifs is empty"),
        ({"motifs": ""}, "motifs is empty"),
        ({"motifs": ("linear", "convolution")}, "unknown motif"),
        ({"readout": "mean"}, "readout='mean' is not one of ('all', 'ports')"),
        ({"n_ports": 7, "n_neurons": 6}, "n_ports=7 exceeds n_neurons=6"),
        ({"d_model": 30, "n_heads": 4}, "divisible by n_heads"),
        ({"n_units": 0}, "n_units must be a positive integer"),
        ({"n_links": -1}, "n_links must be an integer >= 0"),
        ({"dropout": 1.5}, "dropout must be in [0, 1)"),
    ],
)
def test_bad_options_are_rejected_at_construction(kwargs, message):
    with pytest.raises(ValueError) as info:
        CircuitNetModel(24, 6, **kwargs)
    assert message in str(info.value)


def test_attention_free_model_ignores_head_divisibility():
    CircuitNetModel(24, 6, d_model=30, n_heads=4, motifs=("linear", "product"))


def test_series_too_short_is_a_clear_error(quiet_trainer):
    model = _tiny(quiet_trainer)
    with pytest.raises(ValueError, match=r"has 20 time steps.*needs at least.*= 30"):
        model.fit(_hourly(np.arange(20.0)))


def test_nan_in_target_is_a_clear_error(quiet_trainer):
    values = np.sin(np.arange(100) / 3.0)
    values[40] = np.nan
    with pytest.raises(ValueError, match=r"series holds 1 NaN.*fill_missing_values"):
        _tiny(quiet_trainer).fit(_hourly(values))


def test_nan_in_covariates_is_a_clear_error(quiet_trainer):
    series = _hourly(np.sin(np.arange(100) / 3.0))
    cov = np.ones(100)
    cov[3] = np.inf
    with pytest.raises(ValueError, match="past_covariates holds"):
        _tiny(quiet_trainer).fit(series, past_covariates=_hourly(cov))


def test_readout_from_ports_only_is_smaller(quiet_trainer):
    series = _hourly(np.sin(np.arange(100) / 3.0))
    everything = _tiny(quiet_trainer).fit(series)
    ports = _tiny(quiet_trainer, readout="ports").fit(series)
    count = lambda m: sum(p.numel() for p in m.model.parameters())  # noqa: E731
    assert count(ports) < count(everything)
    assert ports.predict(6).n_timesteps == 6


def test_reversible_instance_norm_is_on_by_default():
    assert CircuitNetModel(24, 6).pl_module_params["use_reversible_instance_norm"] is True
    off = CircuitNetModel(24, 6, use_reversible_instance_norm=False)
    assert off.pl_module_params["use_reversible_instance_norm"] is False


# --- the training loss ----------------------------------------------------------------------


def _criteria(model) -> set[type]:
    module = model.model
    return {type(module.criterion), type(module.train_criterion), type(module.val_criterion)}


def test_the_default_loss_is_huber_and_a_given_one_replaces_it(quiet_trainer):
    series = _hourly(np.sin(np.arange(100) / 3.0))
    default = _tiny(quiet_trainer)
    assert isinstance(default.pl_module_params["loss_fn"], torch.nn.HuberLoss)
    assert _criteria(default.fit(series)) == {torch.nn.HuberLoss}
    assert _criteria(_tiny(quiet_trainer, loss_fn=torch.nn.MSELoss()).fit(series)) == {
        torch.nn.MSELoss
    }
    # two models never share the recipe's loss object
    assert (
        _tiny(quiet_trainer).pl_module_params["loss_fn"] is not default.pl_module_params["loss_fn"]
    )


@pytest.mark.parametrize(
    ("scale", "kwargs", "warns"),
    [
        (100.0, {}, True),
        (1.0, {}, False),
        (100.0, {"loss_fn": torch.nn.MSELoss()}, False),
        (100.0, {"loss_fn": torch.nn.HuberLoss(delta=50.0)}, False),
    ],
)
def test_unscaled_data_with_the_default_loss_is_warned_once(
    quiet_trainer, monkeypatch, caplog, scale, kwargs, warns
):
    monkeypatch.setattr(circuitnet_module, "_loss_scale_warned", False)
    series = _hourly(scale * np.sin(np.arange(100) / 3.0))
    with caplog.at_level(logging.WARNING, logger=circuitnet_module.__name__):
        _tiny(quiet_trainer, n_epochs=1, **kwargs).fit(series)
        _tiny(quiet_trainer, n_epochs=1, **kwargs).fit(series)
    found = [r.getMessage() for r in caplog.records if "HuberLoss()" in r.getMessage()]
    assert len(found) == (1 if warns else 0), found
    if warns:
        assert "standard deviation 70.6" in found[0] and "Scaler" in found[0]


def test_the_loss_survives_save_load_and_the_best_checkpoint(quiet_trainer, tmp_path):
    """darts restores a checkpoint's loss only as ``criterion``: the module restores all three,
    so that training after ``load_best`` or ``load_from_checkpoint`` keeps the default loss."""
    series = _hourly(np.sin(np.arange(160) / 3.0))
    trainer = {**quiet_trainer, "enable_checkpointing": True}
    model = _tiny(
        trainer, save_checkpoints=True, model_name="huber", work_dir=str(tmp_path), n_epochs=2
    )
    model.fit(series[:120], val_series=series[90:], load_best=True)
    assert _criteria(model) == {torch.nn.HuberLoss}
    restored = CircuitNetModel.load_from_checkpoint("huber", work_dir=str(tmp_path), best=True)
    assert _criteria(restored) == {torch.nn.HuberLoss}
    model.save(str(tmp_path / "m.pt"))
    assert _criteria(CircuitNetModel.load(str(tmp_path / "m.pt"))) == {torch.nn.HuberLoss}


# --- it learns ------------------------------------------------------------------------------


def test_learns_a_noisy_multi_seasonal_series_better_than_seasonal_naive(quiet_trainer):
    rng = np.random.default_rng(0)
    t = np.arange(1400)
    values = (
        np.sin(2 * np.pi * t / 24)
        + 0.6 * np.sin(2 * np.pi * t / 7.5)
        + 0.002 * t
        + 0.2 * rng.standard_normal(len(t))
    )
    series = _hourly(values)
    train, test = series[:1100], series[1100 - 48 :]
    model = CircuitNetModel(
        48,
        12,
        d_model=16,
        n_units=3,
        n_neurons=4,
        n_ports=2,
        n_heads=2,
        patch_len=8,
        stride=4,
        n_epochs=6,
        batch_size=32,
        random_state=0,
        pl_trainer_kwargs=quiet_trainer,
        optimizer_kwargs={"lr": 3e-3},
    ).fit(train)
    start = test.time_index[48]
    kwargs = dict(
        start=start, forecast_horizon=12, stride=12, last_points_only=False, verbose=False
    )
    model_forecasts = model.historical_forecasts(test, retrain=False, **kwargs)
    naive_forecasts = NaiveSeasonal(K=24).historical_forecasts(test, retrain=True, **kwargs)
    model_error = np.mean(mse([test] * len(model_forecasts), model_forecasts))
    naive_error = np.mean(mse([test] * len(naive_forecasts), naive_forecasts))
    # noise variance is 0.04; seasonal naive also carries the 7.5-step season's error
    assert model_error < 0.6 * naive_error, (model_error, naive_error)


def test_a_small_default_model_learns_a_seasonal_series_to_a_low_error(quiet_trainer):
    """The default architecture and training recipe, only a short lookback and 3 epochs."""
    rng = np.random.default_rng(1)
    t = np.arange(900)
    noise = 0.1
    values = np.sin(2 * np.pi * t / 24) + 0.5 * np.cos(2 * np.pi * t / 12)
    series = _hourly(values + noise * rng.standard_normal(len(t)))
    train, test = series[:700], series[700 - 48 :]
    model = CircuitNetModel(48, 12, n_epochs=3, random_state=0, pl_trainer_kwargs=quiet_trainer)
    model.fit(train)
    forecasts = model.historical_forecasts(
        test, forecast_horizon=12, stride=12, retrain=False, last_points_only=False, verbose=False
    )
    error = np.mean(mse([test] * len(forecasts), forecasts))
    # the noise alone gives 0.01; the signal's variance is 0.625
    assert error < 0.03, error


def test_a_model_saved_with_the_0_1_layout_is_refused_with_a_clear_error():
    """0.1 saved no layout; its weights do not fit the 0.2 layers."""
    state = CircuitNetModel(24, 6).__getstate__()
    assert state["layout"] == CircuitNetModel.LAYOUT
    del state["layout"]
    with pytest.raises(RuntimeError, match=r"layer layout 1 \(CircuitNet 0\.1\).*Retrain"):
        CircuitNetModel.__new__(CircuitNetModel).__setstate__(state)
