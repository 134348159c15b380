"""Entry point of the ``cnforecast`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to the callable that runs
it (``func(args) -> int`` exit code). :data:`COMMAND_MODULES` lists them explicitly.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Explicit list of the sub-command modules (no discovery by listing the folder).
COMMAND_MODULES: tuple[str, ...] = (
    "cnforecast.cli.bench_cmd",
    "cnforecast.cli.datasets_cmd",
    "cnforecast.cli.jobs_cmd",
    "cnforecast.cli.models_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    from cnforecast import __version__

    parser = argparse.ArgumentParser(
        prog="cnforecast",
        description="CircuitNet forecasting: data sets, training jobs and benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"cnforecast {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    if getattr(args, "quiet", False):
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
