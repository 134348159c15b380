"""Forecasting jobs: train, predict, backtest and batch-forecast from CSV/Parquet tables.

The library behind ``cnforecast fit``, ``predict``, ``backtest`` and ``forecast-batch``;
each function here is what the command of the same name runs.

- :mod:`~cnforecast.jobs.tabular`: tables to darts series, with validation;
- :mod:`~cnforecast.jobs.config`: the typed training configuration (YAML);
- :mod:`~cnforecast.jobs.scaling`: standard scaling stored as plain numbers;
- :mod:`~cnforecast.jobs.forecaster`: a trained model with its scaler, columns and
  frequency, which predicts and backtests (what every job but ``fit`` runs);
- :mod:`~cnforecast.jobs.manifest`: model directories (darts model + ``manifest.json``);
- :mod:`~cnforecast.jobs.fit`, :mod:`~cnforecast.jobs.predict`,
  :mod:`~cnforecast.jobs.backtest`, :mod:`~cnforecast.jobs.batch`: the jobs, thin
  table-in, table-out shells;
- :mod:`~cnforecast.jobs.io`: atomic, overwrite-safe table outputs;
- :mod:`~cnforecast.jobs.errors`: the errors a user can cause (all :class:`JobError`).

Training and evaluation are the engine's (:mod:`cnforecast.engine`). The names below are
imported on first use, so ``import cnforecast.jobs`` loads neither torch nor darts.
"""

from cnforecast._lazy import lazy_getattr

_EXPORTS = {
    "BacktestResult": "cnforecast.jobs.forecaster",
    "BatchSummary": "cnforecast.jobs.batch",
    "ColumnSpec": "cnforecast.jobs.tabular",
    "ConfigError": "cnforecast.jobs.errors",
    "DataValidationError": "cnforecast.jobs.errors",
    "FitConfig": "cnforecast.jobs.config",
    "FitResult": "cnforecast.jobs.fit",
    "ForecastError": "cnforecast.jobs.errors",
    "Forecaster": "cnforecast.jobs.forecaster",
    "JobError": "cnforecast.jobs.errors",
    "LoadedModel": "cnforecast.jobs.manifest",
    "ModelDirError": "cnforecast.jobs.errors",
    "OutputExistsError": "cnforecast.jobs.errors",
    "SeriesBundle": "cnforecast.jobs.tabular",
    "backtest_job": "cnforecast.jobs.backtest",
    "fit_job": "cnforecast.jobs.fit",
    "forecast_batch_job": "cnforecast.jobs.batch",
    "forecast_series": "cnforecast.jobs.predict",
    "forecasts_to_frame": "cnforecast.jobs.predict",
    "frame_to_series": "cnforecast.jobs.tabular",
    "load_model_dir": "cnforecast.jobs.manifest",
    "load_series": "cnforecast.jobs.tabular",
    "plot_backtest": "cnforecast.jobs.backtest",
    "predict_job": "cnforecast.jobs.predict",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
