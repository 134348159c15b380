"""Prediction job: a model directory and a table in, a forecast table out (``cnforecast predict``).

The forecast table has one row per series and future time step: the id column (if the model
has one), the time column, and one column per target in the original units. For a
probabilistic model the target columns hold the mean of the samples, and ``{target}_q{q}``
columns hold the requested quantiles (e.g. ``load_q0.1``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from darts import TimeSeries

from cnforecast.jobs.errors import ForecastError
from cnforecast.jobs.io import check_output, table_format, write_table
from cnforecast.jobs.manifest import LoadedModel, load_model_dir
from cnforecast.jobs.tabular import FillMethod, SeriesBundle, load_series

logger = logging.getLogger(__name__)

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
#: Samples drawn from a probabilistic model when ``num_samples`` is not given.
DEFAULT_NUM_SAMPLES = 100


def inference_trainer_kwargs(accelerator: str = "auto", quiet: bool = True) -> dict[str, Any]:
    """Lightning settings for prediction: one device, no logger, no checkpoints."""
    return {
        "accelerator": accelerator,
        "devices": 1,
        "enable_progress_bar": not quiet,
        "enable_model_summary": False,
        "logger": False,
        "enable_checkpointing": False,
    }


def quantile_column(target: str, q: float) -> str:
    """The name of a quantile column.

    Examples
    --------
    >>> quantile_column("load", 0.1)
    'load_q0.1'
    """
    return f"{target}_q{q:g}"


def check_bundle(loaded: LoadedModel, bundle: SeriesBundle) -> None:
    """Check that ``bundle`` has the frequency the model was trained on."""
    if str(bundle.freq) != str(loaded.freq):
        raise ForecastError(
            f"{bundle.source}: the data has frequency {bundle.freq!r}, but the model in "
            f"{str(loaded.path)!r} was trained on frequency {loaded.freq!r}"
        )


def resolve_num_samples(loaded: LoadedModel, num_samples: int | None) -> int:
    """``num_samples`` checked against the model (default: 100 if probabilistic, else 1)."""
    if num_samples is None:
        return DEFAULT_NUM_SAMPLES if loaded.probabilistic else 1
    if num_samples < 1:
        raise ForecastError(f"num_samples must be at least 1, got {num_samples}")
    if num_samples > 1 and not loaded.probabilistic:
        raise ForecastError(
            f"the model in {str(loaded.path)!r} is deterministic (trained without a "
            "likelihood), so it gives one sample only: drop --num-samples or train with "
            "--likelihood quantile"
        )
    return num_samples


def open_model(
    model_dir: str | os.PathLike[str] | LoadedModel, accelerator: str = "auto", quiet: bool = True
) -> LoadedModel:
    """A model directory loaded for prediction (an already loaded model is returned as is)."""
    if isinstance(model_dir, LoadedModel):
        return model_dir
    return load_model_dir(model_dir, inference_trainer_kwargs(accelerator, quiet))


def resolve_fill(loaded: LoadedModel, fill: FillMethod | None) -> FillMethod:
    """``fill``, else the missing-value handling the model was trained with (else ``"none"``)."""
    return fill or loaded.manifest.get("config", {}).get("fill", "none")


def load_history(
    data: str | os.PathLike[str], loaded: LoadedModel, fill: FillMethod
) -> SeriesBundle:
    """The series to forecast from: the model's columns, ``input_chunk_length`` rows at least."""
    return load_series(
        data,
        loaded.columns,
        fill=fill,
        min_length=loaded.input_chunk_length,
        min_length_reason=f"the model's input_chunk_length is {loaded.input_chunk_length}",
    )


def _check_covariate_horizon(loaded: LoadedModel, bundle: SeriesBundle, n: int) -> None:
    ocl = loaded.output_chunk_length
    if bundle.past_covariates is not None and n > ocl:
        raise ForecastError(
            f"the model uses past covariates, whose future values are unknown, so it can "
            f"forecast at most output_chunk_length={ocl} steps; got n={n}"
        )
    if bundle.future_covariates is None:
        return
    needed = max(n, ocl)
    for key, target, cov in zip(bundle.ids, bundle.targets, bundle.future_covariates):
        available = len(cov) - (cov.get_index_at_point(target.end_time()) + 1)
        if available < needed:
            where = f", series {key!r}" if key is not None else ""
            raise ForecastError(
                f"{bundle.source}{where}: the future covariates reach {available} step(s) past "
                f"the last target value, but forecasting n={n} steps needs {needed}; add "
                "rows after the last observation with empty targets and the future "
                "covariate values"
            )


def forecast_series(
    loaded: LoadedModel,
    bundle: SeriesBundle,
    n: int,
    num_samples: int = 1,
    batch_size: int | None = None,
) -> list[TimeSeries]:
    """Forecast ``n`` steps after the end of every target series, in one batched call.

    Returns the forecasts in the original units (scaling undone), one per series.
    """
    if n < 1:
        raise ForecastError(f"the forecast horizon n must be at least 1, got {n}")
    check_bundle(loaded, bundle)
    _check_covariate_horizon(loaded, bundle, n)
    scaled = loaded.scaler.transform(bundle) if loaded.scaler is not None else bundle
    try:
        preds = loaded.model.predict(
            n=n,
            series=scaled.targets,
            past_covariates=scaled.past_covariates,
            future_covariates=scaled.future_covariates,
            num_samples=num_samples,
            batch_size=batch_size,
            show_warnings=False,
        )
    except ValueError as exc:
        raise ForecastError(f"{bundle.source}: prediction failed: {exc}") from exc
    if isinstance(preds, TimeSeries):
        preds = [preds]
    return loaded.scaler.inverse_targets(preds) if loaded.scaler is not None else list(preds)


def forecasts_to_frame(
    forecasts: Sequence[TimeSeries],
    ids: Sequence[Any],
    loaded: LoadedModel,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame:
    """One row per series and time step: id, time, each target (and its quantile columns)."""
    columns = loaded.columns
    frames = []
    for key, fc in zip(ids, forecasts):
        data: dict[str, Any] = {}
        if columns.id:
            data[columns.id] = [key] * len(fc)
        data[columns.time] = fc.time_index
        values = fc.all_values(copy=False)  # (time, component, sample)
        for i, target in enumerate(columns.targets):
            data[target] = values[:, i, :].mean(axis=1)
            if fc.n_samples > 1:
                for q in quantiles:
                    data[quantile_column(target, q)] = np.quantile(values[:, i, :], q, axis=1)
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def predict_job(
    model_dir: str | os.PathLike[str] | LoadedModel,
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
) -> pd.DataFrame:
    """Forecast ``n`` steps after each series of a table, and write the forecast table.

    Parameters
    ----------
    model_dir
        A model directory (or an already loaded one).
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
    """
    if out is not None:
        table_format(out)
        check_output(out, overwrite)
    for q in quantiles:
        if not 0 < q < 1:
            raise ForecastError(f"quantiles must be in (0, 1), got {q}")
    loaded = open_model(model_dir, accelerator, quiet)
    samples = resolve_num_samples(loaded, num_samples)
    bundle = load_history(data, loaded, resolve_fill(loaded, fill))
    forecasts = forecast_series(loaded, bundle, n, samples, batch_size)
    frame = forecasts_to_frame(forecasts, bundle.ids, loaded, quantiles)
    if out is not None:
        write_table(frame, out, overwrite=overwrite)
        logger.info("wrote %d forecast rows to %s", len(frame), Path(out))
    return frame
