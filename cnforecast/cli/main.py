"""Entry point of the ``cnforecast`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to the callable that runs
it (``func(args) -> int`` exit code). :data:`COMMAND_MODULES` lists them explicitly. The
command modules import torch and darts only inside the commands that need them, so
``cnforecast --help`` and ``cnforecast datasets list`` start without them.

Exit statuses, for every command (:func:`exit_status`):

- 0: success;
- 1: the command ran and failed: a bad data file, model directory or output path, a run
  of the benchmark that failed, a data set that is missing;
- 2: the invocation is wrong: a usage error (argparse), an invalid configuration
  (:class:`~cnforecast.errors.ConfigError`), an unknown model or data-set name. The job
  commands (``fit``, ``predict``, ``backtest``, ``forecast-batch``) report these with 1,
  as they always have (their ``usage_status``);
- 130: interrupted (Ctrl-C, SIGINT); 143: stopped by SIGTERM (a scheduler stopping the
  job). Both print ``error: ...`` and leave nothing half-written (see
  :mod:`cnforecast.cli.signals`).

Every error a user can cause is printed as one line, ``error: <message>``, without a
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from cnforecast.errors import CnforecastError, ConfigError

# Explicit list of the sub-command modules (no discovery by listing the folder).
COMMAND_MODULES: tuple[str, ...] = (
    "cnforecast.cli.bench_cmd",
    "cnforecast.cli.datasets_cmd",
    "cnforecast.cli.jobs_cmd",
    "cnforecast.cli.models_cmd",
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_NOISY_LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning")
#: Library warnings that say nothing actionable to a command-line user.
_NOISE = (
    r".*isinstance\(treespec, LeafSpec\)",
    r".*'pin_memory' argument is set as true",
    r".*Total length of .* across ranks is zero",
    r".*does not have many workers",
)


def build_parser() -> argparse.ArgumentParser:
    from cnforecast.engine.provenance import UNKNOWN_VERSION, package_version

    parser = argparse.ArgumentParser(
        prog="cnforecast",
        description="CircuitNet forecasting: data sets, training jobs and benchmarks.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"cnforecast {package_version('cnforecast') or UNKNOWN_VERSION}",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Errors that say the invocation is wrong (imported only once an error happened)."""
    errors: list[type[BaseException]] = [ConfigError]
    if "cnforecast.models.registry" in sys.modules:
        errors.append(sys.modules["cnforecast.models.registry"].UnknownModelError)
    if "cnforecast.datasets.errors" in sys.modules:
        errors.append(sys.modules["cnforecast.datasets.errors"].UnknownDatasetError)
    return tuple(errors)


def _user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CnforecastError]
    if "cnforecast.datasets.errors" in sys.modules:
        errors.append(sys.modules["cnforecast.datasets.errors"].DatasetError)
    return (*errors, *_usage_errors())


def exit_status(err: BaseException, usage_status: int = EXIT_USAGE) -> int | None:
    """The exit status of an error a user caused, or ``None`` for a bug (re-raised)."""
    if isinstance(err, _usage_errors()):
        return usage_status
    if isinstance(err, _user_errors()):
        return EXIT_FAILED
    return None


def _not_a_darts_error(record: logging.LogRecord) -> bool:
    # darts logs every error it raises; the command reports the exception itself
    return not (record.name.startswith("darts") and record.levelno >= logging.ERROR)


def quiet_libraries(quiet: bool, verbose: int) -> None:
    """Lightning prints banners and tips at INFO level; keep them out unless asked for."""
    level = logging.ERROR if quiet else logging.WARNING if not verbose else logging.INFO
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)

    def below_level(record: logging.LogRecord) -> bool:
        # Lightning, imported later (lazily), resets its logger to INFO: filter here too
        noisy = record.name.split(".")[0] in _NOISY_LOGGERS
        return not (noisy and record.levelno < level)

    for handler in logging.getLogger().handlers:
        handler.addFilter(below_level)
        if not verbose:
            handler.addFilter(_not_a_darts_error)
    for pattern in _NOISE:
        warnings.filterwarnings("ignore", message=pattern)
    if quiet:
        warnings.simplefilter("ignore")


def main(argv: Sequence[str] | None = None, *, process: bool = False) -> int:
    """Run one command; return its exit status.

    ``process``: this is the whole ``cnforecast`` process (:func:`entry_point`), which may
    tune the interpreter for one command (:mod:`cnforecast.cli.startup`); callers that go on
    afterwards (tests, notebooks) leave it false.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if process and getattr(args, "preload", None):
        from cnforecast.cli.startup import preload

        # a list of modules, or a function of the arguments that gives one
        preload(args.preload(args) if callable(args.preload) else args.preload)
    quiet = getattr(args, "quiet", False)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(
        level=logging.ERROR if quiet else level, format="%(levelname)s %(name)s: %(message)s"
    )
    quiet_libraries(quiet, args.verbose)
    from cnforecast.cli import signals

    try:
        return signals.run(lambda: int(args.func(args) or 0))
    except Exception as err:
        status = exit_status(err, getattr(args, "usage_status", EXIT_USAGE))
        if status is None:
            raise
        print(f"error: {err}", file=sys.stderr)
        return status


def entry_point() -> None:
    """The ``cnforecast`` command: :func:`main`, then exit with its status.

    Before exiting, every live object is moved out of the garbage collector's sight
    (``gc.freeze``): the interpreter's last collections then skip the hundreds of thousands
    of objects torch and darts create at import, which saves about half a second per command
    (measured: ``import torch`` then exit, 1.8 s -> 1.35 s). Nothing is skipped: buffers are
    flushed, ``atexit`` handlers run and temporary files are removed as before.
    """
    status = main(process=True)
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
