"""Argument types shared by every command: lists, numbers, devices, model names.

Each turns one flag's text into a value or raises :class:`argparse.ArgumentTypeError`, which
argparse reports as a usage error (exit status 2). Lists are comma-separated and parsed by
:func:`cnforecast.settings.split_list`, as in configuration files.
"""

from __future__ import annotations

import argparse

from cnforecast.errors import ConfigError
from cnforecast.settings import parse_devices, split_list

__all__ = [
    "boolean",
    "devices",
    "integers",
    "model_names",
    "names",
    "numbers",
    "positive",
]


def names(text: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]`` (at least one)."""
    items = split_list(text)
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def integers(text: str) -> list[int]:
    """``"96,336"`` -> ``[96, 336]`` (at least one)."""
    try:
        items = [int(v) for v in split_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not items:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return items


def numbers(text: str) -> list[float]:
    """``"0.1,0.9"`` -> ``[0.1, 0.9]`` (at least one)."""
    try:
        return [float(item) for item in names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def positive(text: str) -> int:
    """A positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def boolean(text: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "y", "on"):
        return True
    if value in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def devices(text: str) -> int | str | list[int]:
    """Lightning devices: a count, ``auto`` or indices ``0,1``."""
    try:
        value = parse_devices(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    assert value is not None
    return value


def model_names(text: str) -> list[str]:
    """Registry model names, checked against the registry (imported only when used)."""
    from cnforecast.models.registry import MODELS

    items = split_list(text)
    unknown = [n for n in items if n not in MODELS]
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"known models: {', '.join(MODELS)}"
        )
    return items


def standard_split(args: argparse.Namespace):
    """The standard split of ``args.dataset`` at ``args.lookback``, read as the data flags
    (``--data``, ``--no-download``, ``--no-verify``) say."""
    from cnforecast.bench.runner import load_standard_split

    return load_standard_split(
        args.dataset,
        args.lookback,
        data=args.data,
        download=not args.no_download,
        verify=not args.no_verify,
    )
