"""Forecasting jobs: train, predict, backtest and batch-forecast from CSV/Parquet tables.

The library behind ``cnforecast fit``, ``predict``, ``backtest`` and ``forecast-batch``;
each function here is what the command of the same name runs.

- :mod:`~cnforecast.jobs.tabular`: tables to darts series, with validation;
- :mod:`~cnforecast.jobs.config`: the typed training configuration (YAML);
- :mod:`~cnforecast.jobs.scaling`: standard scaling stored as plain numbers;
- :mod:`~cnforecast.jobs.manifest`: model directories (darts model + ``manifest.json``);
- :mod:`~cnforecast.jobs.fit`, :mod:`~cnforecast.jobs.predict`,
  :mod:`~cnforecast.jobs.backtest`, :mod:`~cnforecast.jobs.batch`: the jobs;
- :mod:`~cnforecast.jobs.io`: atomic, overwrite-safe outputs;
- :mod:`~cnforecast.jobs.errors`: the errors a user can cause (all :class:`JobError`).
"""

from cnforecast.jobs.backtest import BacktestResult, backtest, backtest_job, plot_backtest
from cnforecast.jobs.batch import BatchSummary, forecast_batch_job
from cnforecast.jobs.config import FitConfig
from cnforecast.jobs.errors import (
    ConfigError,
    DataValidationError,
    ForecastError,
    JobError,
    ModelDirError,
    OutputExistsError,
)
from cnforecast.jobs.fit import FitResult, fit_job
from cnforecast.jobs.manifest import LoadedModel, load_model_dir
from cnforecast.jobs.predict import forecast_series, forecasts_to_frame, predict_job
from cnforecast.jobs.tabular import ColumnSpec, SeriesBundle, frame_to_series, load_series

__all__ = [
    "BacktestResult",
    "BatchSummary",
    "ColumnSpec",
    "ConfigError",
    "DataValidationError",
    "FitConfig",
    "FitResult",
    "ForecastError",
    "JobError",
    "LoadedModel",
    "ModelDirError",
    "OutputExistsError",
    "SeriesBundle",
    "backtest",
    "backtest_job",
    "fit_job",
    "forecast_batch_job",
    "forecast_series",
    "forecasts_to_frame",
    "frame_to_series",
    "load_model_dir",
    "load_series",
    "plot_backtest",
    "predict_job",
]
