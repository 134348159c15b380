"""Daily data in darts 0.48 with pandas 3: ``n_steps_between`` on a ``Day`` offset.

The bug
    pandas 3 made ``Day`` a calendar-day offset (no longer a fixed 24-hour ``Tick``).
    ``darts.utils.utils.n_steps_between`` (darts 0.48.1) still treats every offset that
    ``pd.to_timedelta`` accepts as fixed and computes ``(end - start) // freq``; for ``Day``
    that is ``Timedelta // Day``, which pandas 3 refuses with ``TypeError: unsupported
    operand type(s) for //: 'Timedelta' and 'pandas._libs.tslibs.offsets.Day'``. Every
    ``historical_forecasts``, ``backtest``, ``residuals`` and time-based slicing of a series
    with frequency ``D`` or ``nD`` goes through it, for every darts model.

The workaround
    :func:`install` (called on ``import cnforecast``; it imports nothing heavy itself)
    wraps ``n_steps_between`` so that a ``Day`` offset of ``n`` days is counted on the
    wall clock (time zone dropped, so a 23- or 25-hour day at a daylight-saving change still
    counts as one day), and every other call goes to darts unchanged. The wrapper replaces
    the function in ``darts.utils.utils`` and in every darts module that has already
    imported it by name; if darts is not imported yet, an import hook applies it the
    moment ``darts.utils.utils`` is first loaded. The patch is applied only where the bug
    is present: :func:`bug_present` calls darts' own function on a ``Day`` offset first, so
    with pandas < 3 or a darts that has fixed it, nothing is changed.

When to drop it
    When the project requires a darts release whose ``n_steps_between`` handles pandas 3's
    ``Day`` (``bug_present()`` is then false and the test
    ``tests/test_compat_darts_daily.py::test_bug_still_present_in_pinned_darts`` fails, as a
    reminder): delete this module and its ``install()`` call in ``cnforecast/__init__.py``.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import logging
import sys
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

_TARGET = "darts.utils.utils"
_NAME = "n_steps_between"
_PATCHED_FLAG = "_cnforecast_daily_patch"


def bug_present(n_steps_between: Any = None) -> bool:
    """Whether darts' ``n_steps_between`` fails on a daily offset with this pandas."""
    import pandas as pd

    if n_steps_between is None:
        from darts.utils.utils import n_steps_between
    original = getattr(n_steps_between, "__wrapped__", n_steps_between)
    try:
        steps = original(
            start=pd.Timestamp("2000-01-01"), end=pd.Timestamp("2000-01-05"), freq=pd.offsets.Day(2)
        )
    except TypeError:
        return True
    return steps != 2


def _wall_clock(ts: Any) -> Any:
    return ts.tz_localize(None) if getattr(ts, "tzinfo", None) is not None else ts


def _patched(original: Any) -> Any:
    import pandas as pd

    @functools.wraps(original)
    def n_steps_between(end: Any, start: Any, freq: Any) -> int:
        offset = pd.tseries.frequencies.to_offset(freq) if isinstance(freq, str) else freq
        if (
            type(offset) is pd.offsets.Day
            and offset.n > 0
            and isinstance(start, pd.Timestamp)
            and isinstance(end, pd.Timestamp)
        ):
            step = pd.Timedelta(days=offset.n)
            diff = _wall_clock(end) - _wall_clock(start)
            if diff < pd.Timedelta(0):
                # round towards zero, as darts does for negative spans
                return -((-diff) // step)
            return diff // step
        return original(end=end, start=start, freq=freq)

    setattr(n_steps_between, _PATCHED_FLAG, True)
    return n_steps_between


def _apply(utils_module: ModuleType) -> bool:
    """Patch ``utils_module`` and every loaded darts module that imported the function."""
    original = getattr(utils_module, _NAME, None)
    if original is None or getattr(original, _PATCHED_FLAG, False):
        return False
    if not bug_present(original):
        logger.debug("darts handles daily offsets; no patch needed")
        return False
    patched = _patched(original)
    for name, module in list(sys.modules.items()):
        if (name == "darts" or name.startswith("darts.")) and getattr(
            module, _NAME, None
        ) is original:
            setattr(module, _NAME, patched)
    setattr(utils_module, _NAME, patched)
    logger.debug("patched darts' n_steps_between for daily offsets (pandas 3)")
    return True


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _apply(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)  # one shot: find the real spec without us
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Apply the workaround now if darts is loaded, else as soon as it is imported."""
    module = sys.modules.get(_TARGET)
    if module is not None:
        _apply(module)
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
