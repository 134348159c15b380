"""The errors a user can cause, shared by every layer above the model.

Every error a user can cause with a bad configuration, input file, model directory or output
path derives from :class:`CnforecastError`; the command line prints its message on one line
(no traceback) and exits with the status :mod:`cnforecast.cli.main` assigns to it. Errors
that are bugs stay ordinary Python exceptions. This module imports nothing, so any layer
(the engine, the jobs, the benchmark, the command line) can raise these errors.
"""

from __future__ import annotations

__all__ = ["CnforecastError", "ConfigError", "OutputExistsError"]


class CnforecastError(Exception):
    """Base class of the errors cnforecast reports to its user."""


class ConfigError(CnforecastError, ValueError):
    """An invalid configuration: unknown key, wrong type or bad value (file or flags)."""


class OutputExistsError(CnforecastError, FileExistsError):
    """An output path already exists and ``overwrite`` was not requested."""
