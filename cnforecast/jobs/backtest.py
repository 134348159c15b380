"""Backtest job: historical forecasts of a saved model, their errors and a plot.

``cnforecast backtest`` walks through the end of each series: from ``start`` on, every
``stride`` steps the model forecasts ``horizon`` steps from the data before that point (a
rolling-origin evaluation, darts ``historical_forecasts``). The errors are computed in the
original units over every forecast point:

* MSE and MAE;
* MAPE (in percent), only where no actual value in the evaluated points is zero; otherwise it
  is reported as not defined (``null`` in JSON, empty in CSV).

The output directory holds ``metrics.json``, ``metrics.csv``, ``forecasts.csv`` (every
forecast point next to its actual value) and ``backtest.png``. The forecasts are the
:class:`~cnforecast.jobs.forecaster.Forecaster`'s and the metrics the engine's
(:func:`cnforecast.engine.metrics.error_metrics`); this module writes the report.
"""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any

from cnforecast.engine.metrics import MAPE_UNDEFINED, error_metrics
from cnforecast.engine.provenance import to_jsonable
from cnforecast.jobs.forecaster import BacktestResult, Forecaster
from cnforecast.jobs.io import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_text,
    check_output,
    write_table,
)
from cnforecast.jobs.output_paths import check_not_input, check_writable
from cnforecast.jobs.predict import open_model
from cnforecast.jobs.tabular import FillMethod, SeriesBundle, restore_time_zone

__all__ = [
    "MAPE_UNDEFINED",
    "METRICS_FILE",
    "BacktestResult",
    "backtest",
    "backtest_job",
    "error_metrics",
    "plot_backtest",
]

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"


def backtest(loaded: Forecaster, bundle: SeriesBundle, *args: Any, **kwargs: Any) -> BacktestResult:
    """Historical forecasts of ``loaded`` on ``bundle`` and their errors: the arguments and
    the result of :meth:`Forecaster.backtest <cnforecast.jobs.forecaster.Forecaster.backtest>`.
    """
    return loaded.backtest(bundle, *args, **kwargs)


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
        times = restore_time_zone(actual.time_index, bundle.tz, bundle.freq)  # as in the table
        index = int(times.searchsorted(first))
        start = max(0, index - context * horizon)
        ax.plot(
            times[start:], actual.values().ravel()[start:], color="black", lw=1.2, label="actual"
        )
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


def backtest_job(
    model_dir: str | os.PathLike[str] | Forecaster,
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
    check_writable(out, "output directory")
    inputs = [data] + ([] if isinstance(model_dir, Forecaster) else [model_dir])
    check_not_input(out, inputs, "output directory", replaces_folder=True)
    forecaster = open_model(model_dir, accelerator, quiet)
    forecaster.resolve_num_samples(num_samples)  # a wrong value fails before reading the data
    bundle = forecaster.read(data, fill, horizon=horizon or forecaster.output_chunk_length)
    result = forecaster.backtest(bundle, start, horizon, stride, retrain, num_samples)
    clean = to_jsonable(result.metrics, describe=str)
    with atomic_directory(out, overwrite=overwrite, marker=METRICS_FILE) as tmp:
        write_table(result.forecasts, tmp / "forecasts.csv")
        write_table(result.metrics_table(), tmp / "metrics.csv")
        buffer = io.BytesIO()
        plot_backtest(result).savefig(buffer, format="png", dpi=100)
        atomic_write_bytes(tmp / "backtest.png", buffer.getvalue())
        atomic_write_text(tmp / METRICS_FILE, json.dumps(clean, indent=2, allow_nan=False) + "\n")
    logger.info("wrote the backtest report to %s", Path(out))
    return result
