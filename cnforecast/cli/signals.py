"""SIGTERM and SIGINT for the command line: a clear message and the conventional exit status.

Schedulers (cron, Slurm, Kubernetes, Airflow) stop a job with SIGTERM and read its exit
status; a user stops it with Ctrl-C (SIGINT). :func:`install` replaces Python's handlers for
both with one that raises :class:`JobInterrupted`, a :class:`BaseException` (like
:class:`KeyboardInterrupt`, so ``except Exception`` blocks do not swallow it, and unlike it,
so PyTorch Lightning does not turn it into ``sys.exit(1)``; Lightning keeps our SIGTERM
handler and calls it after its own). The exception unwinds the job: atomic writers remove
their temporary files, a batch job writes its summary, and :func:`run` turns it into

``error: stopped by SIGTERM ...`` on stderr and exit status 143 (128 + 15), or
``error: interrupted (Ctrl-C / SIGINT) ...`` and 130 (128 + 2).

A second signal while the first unwinds is ignored (and logged), so cleanup finishes.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)

#: Exit status after SIGINT (Ctrl-C) and after SIGTERM: 128 + the signal number.
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM
HANDLED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class JobInterrupted(BaseException):
    """Raised in the main thread when the process receives SIGINT or SIGTERM.

    Attributes
    ----------
    signum
        The signal received.
    detail
        What the interrupted job left behind (set by the job while it unwinds), e.g.
        ``"12 of 30 files written; rerun the same command to resume"``.
    """

    def __init__(self, signum: int, detail: str = "") -> None:
        super().__init__(signum)
        self.signum = int(signum)
        self.detail = detail

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    def message(self) -> str:
        """The one-line ``error: ...`` report of the interruption."""
        what = (
            "interrupted (Ctrl-C / SIGINT)"
            if self.signum == signal.SIGINT
            else f"stopped by {self.signal_name}"
        )
        detail = self.detail or "outputs are written atomically, so nothing half-written is left"
        return f"error: {what}; {detail}"


_state = {"stopping": False}


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["stopping"]:
        logger.warning(
            "received %s again while stopping; finishing cleanup", signal.Signals(signum).name
        )
        return
    _state["stopping"] = True
    raise JobInterrupted(signum)


def install() -> bool:
    """Install the handlers (main thread only); return whether they were installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    _state["stopping"] = False
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, _handler)
    return True


def restore() -> None:
    """Put Python's default handlers back (SIGINT raises KeyboardInterrupt again)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state["stopping"] = False


def run(func: Callable[[], int]) -> int:
    """Call ``func`` with the handlers installed; an interruption becomes its exit status.

    Examples
    --------
    >>> import os, signal
    >>> def job():
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     return 0
    >>> run(job)  # doctest: +SKIP
    143
    """
    installed = install()
    try:
        return func()
    except JobInterrupted as exc:
        print(exc.message(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # raised before the handlers were installed, or in a thread
        print(JobInterrupted(signal.SIGINT).message(), file=sys.stderr)
        return EXIT_SIGINT
    finally:
        if installed:
            restore()
