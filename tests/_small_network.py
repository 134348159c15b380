"""A small CircuitNet for the tests of the darts-free engines (test_inference, test_engines)."""

from __future__ import annotations

import numpy as np
from darts import TimeSeries
from darts.utils.timeseries_generation import sine_timeseries

from cnforecast import CircuitNetModel
from cnforecast.layers import CircuitConfig
from cnforecast.layers.network import CircuitNetwork, NetworkShape

SMALL = {"d_model": 8, "n_heads": 2, "n_units": 3, "n_neurons": 4, "n_ports": 2, "patch_len": 8}
TRAINER = {"enable_progress_bar": False, "logger": False, "enable_model_summary": False}


def small_network(lookback: int = 32, horizon: int = 8, **shape: int) -> CircuitNetwork:
    """An untrained network of the small configuration (``shape``: NetworkShape fields)."""
    return CircuitNetwork(CircuitConfig(**SMALL), NetworkShape(lookback, horizon, **shape))


def fit_small(dtype: type | None = None) -> tuple[CircuitNetModel, list[TimeSeries]]:
    """A small CircuitNet (L = 24, H = 6) trained one epoch on three two-component hourly
    series (float64 as darts makes them, or ``dtype``)."""
    series = [
        sine_timeseries(length=120, value_frequency=0.05 + 0.01 * i, freq="h").stack(
            sine_timeseries(length=120, value_frequency=0.03, value_amplitude=3.0, freq="h")
        )
        for i in range(3)
    ]
    if dtype is not None:
        series = [ts.astype(np.dtype(dtype)) for ts in series]
    model = CircuitNetModel(
        24, 6, n_epochs=1, batch_size=16, random_state=0, pl_trainer_kwargs=TRAINER, **SMALL
    )
    return model.fit(series), series
