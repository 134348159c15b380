"""Prediction job: a model directory and a table in, a forecast table out (``cnforecast predict``).

The forecast table has one row per series and future time step: the id column (if the model
has one), the time column, and one column per target in the original units. For a
probabilistic model the target columns hold the mean of the samples, and ``{target}_q{q}``
columns hold the requested quantiles (e.g. ``load_q0.1``). The work is the
:class:`~cnforecast.jobs.forecaster.Forecaster`'s; this module reads and writes tables.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from darts import TimeSeries

from cnforecast.jobs.engines import Engine
from cnforecast.jobs.errors import ForecastError
from cnforecast.jobs.forecaster import (
    DEFAULT_NUM_SAMPLES,
    DEFAULT_QUANTILES,
    Forecaster,
    inference_trainer_kwargs,
    quantile_column,
)
from cnforecast.jobs.io import check_output, table_format, write_table
from cnforecast.jobs.output_paths import check_not_input, check_writable
from cnforecast.jobs.rollout import MAX_ROLLOUTS
from cnforecast.jobs.tabular import FillMethod, SeriesBundle

__all__ = [
    "DEFAULT_NUM_SAMPLES",
    "DEFAULT_QUANTILES",
    "check_quantiles",
    "forecast_series",
    "forecasts_to_frame",
    "inference_trainer_kwargs",
    "open_model",
    "predict_job",
    "quantile_column",
]

logger = logging.getLogger(__name__)


def open_model(
    model_dir: str | os.PathLike[str] | Forecaster,
    accelerator: str = "auto",
    quiet: bool = True,
    engine: Engine = "darts",
) -> Forecaster:
    """A model directory loaded for prediction (an already loaded model is returned as is).

    ``engine``: see :meth:`Forecaster.load`.
    """
    if isinstance(model_dir, Forecaster):
        return model_dir
    return Forecaster.load(model_dir, accelerator, quiet, engine)


def check_quantiles(quantiles: Sequence[float]) -> None:
    """Every quantile must be in (0, 1)."""
    for q in quantiles:
        if not 0 < q < 1:
            raise ForecastError(f"quantiles must be in (0, 1), got {q}")


def forecast_series(
    loaded: Forecaster,
    bundle: SeriesBundle,
    n: int,
    num_samples: int = 1,
    batch_size: int | None = None,
) -> list[TimeSeries]:
    """Forecast ``n`` steps after the end of every series (:meth:`Forecaster.predict`)."""
    return loaded.predict(bundle, n, num_samples, batch_size)


def forecasts_to_frame(
    forecasts: Sequence[TimeSeries],
    ids: Sequence[Any],
    loaded: Forecaster,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame:
    """The forecast table of ``forecasts`` (:meth:`Forecaster.to_frame`)."""
    return loaded.to_frame(forecasts, ids, quantiles)


def predict_job(
    model_dir: str | os.PathLike[str] | Forecaster,
    data: str | os.PathLike[str],
    n: int,
    out: str | os.PathLike[str] | None = None,
    num_samples: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    fill: FillMethod | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    accelerator: str = "auto",
    quiet: bool = False,
    max_rollouts: int | None = MAX_ROLLOUTS,
    engine: Engine = "auto",
) -> pd.DataFrame:
    """Forecast ``n`` steps after each series of a table, and write the forecast table.

    Parameters
    ----------
    model_dir
        A model directory (or an already loaded :class:`Forecaster`).
    data
        A CSV/Parquet file with the model's columns (at least ``input_chunk_length`` rows per
        series; with future covariates, also their values for the forecast horizon).
    n
        Forecast horizon, in time steps.
    out
        ``.csv`` or ``.parquet`` file to write; ``None`` only returns the table.
    num_samples
        Samples drawn from a probabilistic model (default 100; 1 for a point forecaster).
    quantiles
        Quantile columns written for a probabilistic model.
    fill
        Missing-value handling (default: the one the model was trained with).
    batch_size
        Series per forward pass (default: the model's training batch size).
    overwrite
        Replace an existing ``out``.
    accelerator
        Lightning accelerator for prediction.
    quiet
        No progress bar.
    max_rollouts
        Most chunks of ``output_chunk_length`` steps ``n`` may chain (``None``: no limit; see
        :mod:`cnforecast.jobs.rollout`).
    engine
        What predicts: by default the darts-free network where the model directory has one
        (same forecasts, faster start), else the darts model (see :meth:`Forecaster.load`).
    """
    if out is not None:
        table_format(out)
        check_output(out, overwrite)
        check_writable(out, "forecast table")
        inputs = [data] + ([] if isinstance(model_dir, Forecaster) else [model_dir])
        check_not_input(out, inputs, "forecast table")
    check_quantiles(quantiles)
    forecaster = open_model(model_dir, accelerator, quiet, engine)
    samples = forecaster.resolve_num_samples(num_samples)
    bundle = forecaster.read(data, fill)
    forecasts = forecaster.predict(bundle, n, samples, batch_size, max_rollouts)
    frame = forecaster.to_frame(forecasts, bundle.ids, quantiles, bundle.tz)
    if out is not None:
        write_table(frame, out, overwrite=overwrite)
        logger.info("wrote %d forecast rows to %s", len(frame), Path(out))
    return frame
