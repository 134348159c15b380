"""One grid runner: run every task, skip the unavailable ones, record failures, go on.

Used by the benchmark grid (:mod:`cnforecast.bench.runner`) and the throughput comparison
(:mod:`cnforecast.bench.throughput`). A task whose model needs an optional package that is not
installed is *skipped* with the reason; a task that raises is *failed* with the error (logged
with its traceback) and the grid goes on; every outcome is handed to ``emit`` as soon as it
exists, so an interrupted grid keeps what it measured. Torch's CPU threads are set for the
grid and restored afterwards.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from cnforecast.engine.devices import torch_threads

__all__ = ["missing_packages_reason", "run_grid"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def missing_packages_reason(model: str, missing: Sequence[str]) -> str:
    """Why a model is skipped: the optional packages it needs and how to install them.

    Examples
    --------
    >>> missing_packages_reason("nhits", ["neuralforecast"])
    "model 'nhits' needs the optional package(s) neuralforecast, which are not installed (pip install 'cnforecast[baselines]')"
    """  # noqa: E501
    return (
        f"model {model!r} needs the optional package(s) {', '.join(missing)}, which are not "
        "installed (pip install 'cnforecast[baselines]')"
    )


def run_grid(
    tasks: Iterable[T],
    run: Callable[[T], R],
    *,
    name: Callable[[T], str],
    missing: Callable[[T], tuple[str, Sequence[str]]],
    skipped: Callable[[T, str], R],
    failed: Callable[[T, Exception], R],
    emit: Callable[[R], None] | None = None,
    threads: int | None = None,
) -> list[R]:
    """Run ``run(task)`` for every task; return the outcomes in task order.

    Parameters
    ----------
    tasks
        The tasks, in order.
    run
        Runs one task and returns its outcome (e.g. an ``"ok"`` record).
    name
        A task's name, for the log.
    missing
        ``(model name, missing packages)`` of a task; with packages missing the task is not
        run and ``skipped(task, reason)`` is its outcome.
    skipped, failed
        The outcome of a skipped task and of a task whose ``run`` raised.
    emit
        Called with each outcome as soon as it exists (write it, print progress).
    threads
        torch CPU threads during the grid (restored afterwards); ``None``: unchanged.
    """
    outcomes: list[R] = []
    with torch_threads(threads):
        for task in tasks:
            model, packages = missing(task)
            if packages:
                reason = missing_packages_reason(model, packages)
                logger.warning("skipping %s: %s", name(task), reason)
                outcome = skipped(task, reason)
            else:
                start = time.perf_counter()
                try:
                    outcome = run(task)
                except Exception as err:
                    logger.error(
                        "%s failed after %.1f s: %s: %s\n%s",
                        name(task),
                        time.perf_counter() - start,
                        type(err).__name__,
                        err,
                        traceback.format_exc(),
                    )
                    outcome = failed(task, err)
            outcomes.append(outcome)
            if emit is not None:
                emit(outcome)
    return outcomes
