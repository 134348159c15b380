"""Start-up of a command-line process: its heavy libraries imported without collector work.

Importing torch (and pandas, darts) creates hundreds of thousands of objects, and Python's
cyclic garbage collector walks them again and again while they are created: about 0.35 s
of a 3 s ``forecast-batch`` run on this project's 2-core machine. :func:`preload` imports
them with the collector paused, then ``gc.freeze()`` moves everything alive to a
generation the collector no longer walks; collection resumes for what the command itself
creates. Only a ``cnforecast`` process does this (see ``cli.main.entry_point``): frozen
objects are never collected as cycles, which suits a process that exits after one
command, not a notebook or a test session that calls :func:`cnforecast.cli.main.main`.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterable

__all__ = ["JOB_LIBRARIES", "PREDICT_LIBRARIES", "predict_libraries", "preload"]

#: What every job command imports first (the darts models and Lightning are imported later,
#: only when the darts model is loaded).
JOB_LIBRARIES = ("numpy", "pandas", "torch", "darts")
#: What ``predict`` and ``forecast-batch`` import first when ONNX Runtime predicts: no torch.
PREDICT_LIBRARIES = ("numpy", "pandas", "darts", "onnxruntime")


def predict_libraries(args) -> tuple[str, ...]:
    """The libraries of a ``predict`` or ``forecast-batch`` command: torch only if its
    engine needs it (:func:`cnforecast.jobs.engines.engine_of_dir`)."""
    from cnforecast.jobs.engines import engine_of_dir

    engine = engine_of_dir(args.model_dir, args.engine, args.accelerator)
    return PREDICT_LIBRARIES if engine == "onnx" else JOB_LIBRARIES


def preload(modules: Iterable[str]) -> None:
    """Import ``modules`` with the garbage collector paused, then freeze all live objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
