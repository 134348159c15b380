"""Exceptions of the forecasting jobs.

Every error a user can cause with a bad input file, configuration, model directory or output
path is a :class:`JobError` (the package-wide :class:`~cnforecast.errors.CnforecastError`);
the command line prints its message (no traceback) and exits with a non-zero status (see
:mod:`cnforecast.cli.main`). Errors that are bugs stay ordinary Python exceptions.
"""

from __future__ import annotations

from cnforecast.errors import CnforecastError, ConfigError, OutputExistsError

__all__ = [
    "ConfigError",
    "DataValidationError",
    "ForecastError",
    "JobError",
    "ModelDirError",
    "OutputExistsError",
]

#: Base class of the errors a forecasting job reports to its user.
JobError = CnforecastError


class DataValidationError(JobError):
    """An input table cannot be turned into time series (column, value or time problems)."""


class ModelDirError(JobError):
    """A model directory is missing, corrupted, or was written by an incompatible version."""


class ForecastError(JobError):
    """A forecast or backtest cannot be computed for the given model and data."""
