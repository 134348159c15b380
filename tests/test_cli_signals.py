"""SIGTERM and SIGINT handling of the command line (cnforecast/cli/signals.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cnforecast.cli import signals


def _send(signum: int) -> int:
    os.kill(os.getpid(), signum)
    return 0


@pytest.mark.parametrize(
    ("signum", "code", "text"),
    [
        (signal.SIGTERM, 143, "error: stopped by SIGTERM"),
        (signal.SIGINT, 130, "error: interrupted (Ctrl-C / SIGINT)"),
    ],
)
def test_run_turns_a_signal_into_its_exit_status(signum, code, text, capsys):
    assert signals.run(lambda: _send(signum)) == code
    err = capsys.readouterr().err
    assert err.startswith(text)
    assert err.count("\n") == 1
    # the default handlers are back afterwards
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_exception_passes_through_except_exception_and_carries_a_detail(capsys):
    def job() -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except Exception:  # what a careless library does
            return 0
        return 0

    assert signals.run(job) == 143

    def job_with_detail() -> int:
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except signals.JobInterrupted as exc:
            exc.detail = "3 of 5 files written; rerun the same command to resume"
            raise
        return 0

    assert signals.run(job_with_detail) == 130
    assert "3 of 5 files written" in capsys.readouterr().err


def test_a_second_signal_while_stopping_is_ignored(capsys):
    def job() -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # cleanup is not interrupted
        return 0

    assert signals.run(job) == 143


def test_a_process_exits_with_143_on_sigterm():
    code = textwrap.dedent(
        """
        import sys, time
        from cnforecast.cli import signals
        def job():
            print("ready", flush=True)
            time.sleep(30)
            return 0
        sys.exit(signals.run(job))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().startswith("error: stopped by SIGTERM")
