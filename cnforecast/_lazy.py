"""Lazy exports for package ``__init__`` modules, so that ``import cnforecast`` stays light.

A package lists its public names and the module each comes from; the module is imported
when the name is first used (PEP 562, as darts' ``models/__init__.py`` does). The command
line can then start without importing torch or darts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        importlib.import_module(package).__dict__[name] = value  # later lookups skip this
        return value

    return __getattr__
