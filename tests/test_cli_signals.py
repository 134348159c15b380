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


# ------------------------------------------------- the jobs, stopped through a subprocess
def _start(args: list[str]) -> tuple[subprocess.Popen, list[str]]:
    """Start ``python -m cnforecast ARGS``; collect its output in a thread."""
    import threading

    # unbuffered: the progress bar (lines ended by \r only) reaches us as it is drawn
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnforecast", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # Lightning draws its progress bar on stdout
        env=env,
    )
    lines: list[str] = []  # chunks of output (a progress bar ends its lines with \r only)

    def read() -> None:
        while chunk := proc.stdout.read1(4096):
            lines.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc.reader = reader  # type: ignore[attr-defined]
    return proc, lines


def _wait_for(condition, proc, timeout=240.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    try:
        while not condition():
            assert proc.poll() is None, "the job ended before it could be interrupted"
            assert time.monotonic() < deadline, "timed out waiting for the job"
            time.sleep(0.05)
    except AssertionError:
        proc.kill()  # never leave a job (and its Ray instance) running after a failure
        raise


def test_fit_stopped_by_sigterm_during_training_exits_143_and_writes_nothing(tmp_path):
    from _jobs_data import make_frame, write_config

    make_frame(n_series=4, length=400).to_csv(tmp_path / "train.csv", index=False)
    config = write_config(tmp_path / "model.yaml", epochs=500)
    out = tmp_path / "model"
    args = ["fit", "--config", str(config), "--data", str(tmp_path / "train.csv")]
    proc, lines = _start([*args, "--out", str(out), "--accelerator", "cpu"])
    _wait_for(lambda: "Epoch" in "".join(lines), proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    proc.reader.join(timeout=30)
    proc.stdout.close()
    assert proc.returncode == 143, "".join(lines[-5:])
    text = "".join(lines)  # stdout and stderr: the message may follow a progress bar
    assert text.count("error: ") == 1 and "error: stopped by SIGTERM; " in text, text[-500:]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml", "train.csv"]


def test_batch_interrupted_by_ctrl_c_exits_130_writes_its_summary_and_resumes(tmp_path):
    import json

    from _jobs_data import OCL, make_frame, trained_model_dir

    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(30):
        make_frame(ids=[f"f{i}"], seed=i).to_csv(inputs / f"s{i:02d}.csv", index=False)
    out = tmp_path / "out"
    args = ["forecast-batch", "--model-dir", str(trained_model_dir()), "--inputs", str(inputs)]
    args += ["--out", str(out), "-n", str(OCL), "--batch-size", "1", "--accelerator", "cpu"]
    # one predict call per file (about 0.1 s each with the darts model): the job is still
    # running when the signal comes, however fast the writing of the first file was
    args += ["--series-per-call", "1"]
    proc, lines = _start([*args, "--quiet"])
    _wait_for(lambda: out.is_dir() and any(out.glob("s*.csv")), proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    proc.reader.join(timeout=30)
    proc.stdout.close()
    assert proc.returncode == 130, "".join(lines[-5:])
    assert "".join(lines).count("error: interrupted (Ctrl-C / SIGINT); ") == 1
    assert "rerun the same command to resume" in "".join(lines)
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["interrupted"] == "SIGINT"
    done = summary["n_written"]
    assert 1 <= done < 30
    assert sorted(p.name for p in out.iterdir() if p.name != "_summary.json") == sorted(
        f"s{i:02d}.csv" for i in range(30) if (out / f"s{i:02d}.csv").exists()
    )
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    rerun = subprocess.run(
        [sys.executable, "-m", "cnforecast", *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{30 - done} written, {done} skipped" in rerun.stdout


def test_ray_batch_stopped_by_sigterm_exits_143_and_leaves_no_temporary_files(tmp_path):
    import json

    pytest.importorskip("ray")
    from _jobs_data import OCL, make_frame, trained_model_dir

    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(80):
        make_frame(ids=[f"f{i}"], seed=i).to_csv(inputs / f"s{i:02d}.csv", index=False)
    out = tmp_path / "out"
    args = ["forecast-batch", "--model-dir", str(trained_model_dir()), "--inputs", str(inputs)]
    args += ["--out", str(out), "-n", str(OCL), "--batch-size", "1", "--series-per-call", "1"]
    proc, lines = _start([*args, "--accelerator", "cpu", "--quiet", "--ray", "--ray-workers", "2"])
    # Ray's start-up and shutdown are slow on a loaded 2-core machine (it timed out at 240 s
    # beside two benchmark trainings)
    _wait_for(lambda: out.is_dir() and any(out.glob("s*.csv")), proc, timeout=480.0)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    proc.reader.join(timeout=30)
    proc.stdout.close()
    assert proc.returncode == 143, "".join(lines)[-800:]
    assert "error: stopped by SIGTERM; " in "".join(lines)
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["interrupted"] == "SIGTERM" and summary["backend"] == "ray"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
