"""Backtest job: historical forecasts of a saved model, their errors and a plot.

``cnforecast backtest`` walks through the end of each series: from ``start`` on, every
``stride`` steps the model forecasts ``horizon`` steps from the data before that point (a
rolling-origin evaluation, darts ``historical_forecasts``). The errors are computed in the
original units over every forecast point:

* MSE and MAE;
* MAPE (in percent), only where no actual value in the evaluated points is zero; otherwise it
  is reported as not defined (``null`` in JSON, empty in CSV).

The output directory holds ``metrics.json``, ``metrics.csv``, ``forecasts.csv`` (every
forecast point next to its actual value) and ``backtest.png``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from darts import TimeSeries
from pandas.tseries.offsets import Day

from cnforecast.jobs.errors import ForecastError
from cnforecast.jobs.io import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_text,
    check_output,
    write_table,
)
from cnforecast.jobs.manifest import LoadedModel
from cnforecast.jobs.predict import check_bundle, open_model, resolve_fill, resolve_num_samples
from cnforecast.jobs.tabular import FillMethod, SeriesBundle, load_series

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
MAPE_UNDEFINED = "not defined: the actual values contain zeros"


@dataclass
class BacktestResult:
    """Historical forecasts and their errors.

    Attributes
    ----------
    forecasts
        One row per forecast point: id (if any), ``forecast_start``, time, ``step``
        (1 = first step of the forecast), and per target the forecast and ``{target}_actual``.
    metrics
        The ``metrics.json`` record: settings, overall, per target and per series errors.
    bundle
        The actual series (original units), for plotting.
    """

    forecasts: pd.DataFrame
    metrics: dict[str, Any]
    bundle: SeriesBundle

    def metrics_table(self) -> pd.DataFrame:
        """The metrics as a table: one row per series and target, then per target, overall."""
        rows = [*self.metrics["per_series"]]
        rows += [{"id": "ALL", "target": t, **m} for t, m in self.metrics["per_target"].items()]
        rows.append({"id": "ALL", "target": "ALL", **self.metrics["overall"]})
        table = pd.DataFrame(rows)
        return table[["id", "target", "n_points", "mse", "mae", "mape"]]


def error_metrics(actual: np.ndarray, forecast: np.ndarray) -> dict[str, Any]:
    """MSE, MAE and MAPE (percent; ``None`` where an actual value is zero).

    Examples
    --------
    >>> import numpy as np
    >>> m = error_metrics(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    >>> m["mse"], m["mae"], m["mape"]
    (0.125, 0.25, 25.0)
    >>> error_metrics(np.array([0.0, 2.0]), np.array([1.0, 2.0]))["mape_note"]
    'not defined: the actual values contain zeros'
    """
    actual = np.asarray(actual, dtype=np.float64)
    error = np.asarray(forecast, dtype=np.float64) - actual
    result: dict[str, Any] = {
        "n_points": int(actual.size),
        "mse": float(np.mean(error**2)) if actual.size else None,
        "mae": float(np.mean(np.abs(error))) if actual.size else None,
        "mape": None,
    }
    if actual.size and not (actual == 0).any():
        result["mape"] = float(np.mean(np.abs(error / actual)) * 100.0)
    elif actual.size:
        result["mape_note"] = MAPE_UNDEFINED
    return result


def _historical_forecasts(
    loaded: LoadedModel,
    scaled: SeriesBundle,
    start: float | int,
    horizon: int,
    stride: int,
    retrain: bool,
    num_samples: int,
) -> list[list[TimeSeries]]:
    try:
        result = loaded.model.historical_forecasts(
            series=scaled.targets,
            past_covariates=scaled.past_covariates,
            future_covariates=scaled.future_covariates,
            start=start,
            forecast_horizon=horizon,
            stride=stride,
            retrain=retrain,
            num_samples=num_samples,
            last_points_only=False,
            overlap_end=False,
            verbose=False,
            show_warnings=False,
        )
    except TypeError as exc:
        freq = scaled.targets[0].freq
        if isinstance(freq, Day):
            raise ForecastError(
                "historical forecasts on daily data fail with this combination of darts "
                f"and pandas (darts {_version('darts')}, pandas {pd.__version__}: darts "
                "cannot divide a time span by pandas 3's calendar-day offset). Workarounds: "
                "install pandas<3, or give the time column as integers (day numbers). "
                f"Original error: {exc}"
            ) from exc
        raise
    except ValueError as exc:
        raise ForecastError(f"{scaled.source}: historical forecasts failed: {exc}") from exc
    if result and isinstance(result[0], TimeSeries):  # a single series gives a flat list
        result = [result]
    return result


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def backtest(
    loaded: LoadedModel,
    bundle: SeriesBundle,
    start: float | int = 0.8,
    horizon: int | None = None,
    stride: int | None = None,
    retrain: bool = False,
    num_samples: int | None = None,
) -> BacktestResult:
    """Historical forecasts of ``loaded`` on ``bundle`` and their error metrics.

    Parameters
    ----------
    loaded
        The model.
    bundle
        The series (original units).
    start
        First forecast point: a fraction of each series (``0.8``) or a position (an int).
    horizon
        Steps per forecast (default: the model's output_chunk_length).
    stride
        Steps between forecast points (default: ``horizon``, so forecasts do not overlap).
    retrain
        Retrain the model before every forecast (slow); by default the saved model is used.
    num_samples
        Samples per forecast of a probabilistic model, whose point forecast is their mean
        (default 100; always 1 for a point-forecast model).
    """
    samples = resolve_num_samples(loaded, num_samples)
    horizon = horizon or loaded.output_chunk_length
    stride = stride or horizon
    if horizon < 1 or stride < 1:
        raise ForecastError("horizon and stride must be at least 1")
    check_bundle(loaded, bundle)
    if retrain:
        logger.warning("retrain=True trains a new model for every forecast point: slow")
    scaled = loaded.scaler.transform(bundle) if loaded.scaler is not None else bundle
    per_series = _historical_forecasts(loaded, scaled, start, horizon, stride, retrain, samples)

    columns = loaded.columns
    frames = []
    for key, actual, forecasts in zip(bundle.ids, bundle.targets, per_series):
        if loaded.scaler is not None:
            forecasts = loaded.scaler.inverse_targets(forecasts)
        for fc in forecasts:
            data: dict[str, Any] = {}
            if columns.id:
                data[columns.id] = [key] * len(fc)
            data["forecast_start"] = [fc.start_time()] * len(fc)
            data[columns.time] = fc.time_index
            data["step"] = np.arange(1, len(fc) + 1)
            truth = actual.slice_intersect(fc).values(copy=False)
            predicted = fc.all_values(copy=False).mean(axis=2)
            for i, target in enumerate(columns.targets):
                data[target] = predicted[:, i]
                data[f"{target}_actual"] = truth[:, i]
            frames.append(pd.DataFrame(data))
    if not frames:
        raise ForecastError(
            "no historical forecast could be made: the series are too short for "
            f"start={start} and horizon={horizon}"
        )
    table = pd.concat(frames, ignore_index=True)
    metrics = _metrics(table, loaded, start, horizon, stride, retrain, bundle)
    metrics["settings"]["num_samples"] = samples
    return BacktestResult(forecasts=table, metrics=metrics, bundle=bundle)


def _metrics(
    table: pd.DataFrame,
    loaded: LoadedModel,
    start: float | int,
    horizon: int,
    stride: int,
    retrain: bool,
    bundle: SeriesBundle,
) -> dict[str, Any]:
    columns = loaded.columns
    targets = columns.targets

    def metrics_of(rows: pd.DataFrame, names: Sequence[str]) -> dict[str, Any]:
        actual = np.concatenate([rows[f"{t}_actual"].to_numpy() for t in names])
        predicted = np.concatenate([rows[t].to_numpy() for t in names])
        return error_metrics(actual, predicted)

    groups = table.groupby(columns.id, sort=False) if columns.id else [(None, table)]
    per_series = [
        {"id": key, "target": target, **metrics_of(rows, [target])}
        for key, rows in groups
        for target in targets
    ]
    return {
        "settings": {
            "model_dir": str(loaded.path),
            "model": loaded.manifest["model"]["name"],
            "data": bundle.source,
            "start": start,
            "horizon": horizon,
            "stride": stride,
            "retrain": retrain,
            "n_forecasts": int(
                table.groupby(
                    [columns.id, "forecast_start"] if columns.id else ["forecast_start"]
                ).ngroups
            ),
            "units": "original (scaling undone)",
            "mape_unit": "percent",
        },
        "overall": metrics_of(table, targets),
        "per_target": {t: metrics_of(table, [t]) for t in targets},
        "per_series": per_series,
    }


def plot_backtest(result: BacktestResult, max_panels: int = 6, context: int = 3) -> Any:
    """A matplotlib figure: actuals and historical forecasts, one panel per series and target.

    Parameters
    ----------
    result
        A backtest result.
    max_panels
        Panels drawn at most (the first series and targets).
    context
        Show this many horizons of actual values before the first forecast.
    """
    from matplotlib.figure import Figure

    bundle = result.bundle
    cols = bundle.columns
    table = result.forecasts
    panels = [(i, t) for i in range(len(bundle)) for t in cols.targets][:max_panels]
    fig = Figure(figsize=(10, 2.6 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (i, target) in zip(axes, panels):
        key = bundle.ids[i]
        rows = table[table[cols.id] == key] if cols.id else table
        if rows.empty:
            continue
        first = rows[cols.time].min()
        horizon = int(rows["step"].max())
        actual = bundle.targets[i][target]
        index = actual.get_index_at_point(first)
        actual = actual[max(0, index - context * horizon) :]
        ax.plot(actual.time_index, actual.values().ravel(), color="black", lw=1.2, label="actual")
        for n, (_, fc) in enumerate(rows.groupby("forecast_start", sort=True)):
            ax.plot(
                fc[cols.time],
                fc[target],
                color="tab:orange",
                lw=1.2,
                label="forecast" if n == 0 else None,
            )
        ax.set_title(f"{target}" + (f" — {cols.id} {key}" if cols.id else ""))
        ax.legend(loc="upper left")
    return fig


def _format_metrics(metrics: dict[str, Any]) -> str:
    return json.dumps(metrics, indent=2, default=str, allow_nan=False) + "\n"


def backtest_job(
    model_dir: str | os.PathLike[str] | LoadedModel,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    start: float | int = 0.8,
    horizon: int | None = None,
    stride: int | None = None,
    retrain: bool = False,
    num_samples: int | None = None,
    fill: FillMethod | None = None,
    overwrite: bool = False,
    accelerator: str = "auto",
    quiet: bool = False,
) -> BacktestResult:
    """Run :func:`backtest` on a table and write the report directory ``out``.

    ``out`` receives ``metrics.json``, ``metrics.csv``, ``forecasts.csv`` and
    ``backtest.png``; it is written atomically and refused if it exists (unless
    ``overwrite``).
    """
    check_output(out, overwrite, "output directory")
    loaded = open_model(model_dir, accelerator, quiet)
    resolve_num_samples(loaded, num_samples)  # a wrong value fails before reading the data
    bundle = load_series(
        data,
        loaded.columns,
        fill=resolve_fill(loaded, fill),
        min_length=loaded.input_chunk_length + (horizon or loaded.output_chunk_length),
        min_length_reason="input_chunk_length + horizon",
    )
    result = backtest(loaded, bundle, start, horizon, stride, retrain, num_samples)
    _clean = _nan_to_none(result.metrics)
    with atomic_directory(out, overwrite=overwrite, marker=METRICS_FILE) as tmp:
        write_table(result.forecasts, tmp / "forecasts.csv")
        write_table(result.metrics_table(), tmp / "metrics.csv")
        buffer = io.BytesIO()
        plot_backtest(result).savefig(buffer, format="png", dpi=100)
        atomic_write_bytes(tmp / "backtest.png", buffer.getvalue())
        atomic_write_text(tmp / METRICS_FILE, _format_metrics(_clean))
    logger.info("wrote the backtest report to %s", Path(out))
    return result


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _nan_to_none(value.item())
    return value
