"""Exceptions of the forecasting jobs.

Every error a user can cause with a bad input file, configuration, model directory or output
path is a :class:`JobError`; the command line prints its message (no traceback) and exits
with a non-zero code. Errors that are bugs stay ordinary Python exceptions.
"""

from __future__ import annotations


class JobError(Exception):
    """Base class of the errors a forecasting job reports to its user."""


class DataValidationError(JobError):
    """An input table cannot be turned into time series (column, value or time problems)."""


class ConfigError(JobError):
    """A job configuration (YAML file or command-line flags) is invalid."""


class ModelDirError(JobError):
    """A model directory is missing, corrupted, or was written by an incompatible version."""


class OutputExistsError(JobError):
    """An output path already exists and ``overwrite`` was not requested."""


class ForecastError(JobError):
    """A forecast or backtest cannot be computed for the given model and data."""
