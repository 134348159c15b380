"""Small synthetic tables and tiny trained model directories for the job tests.

Imported by the ``test_cli_*`` and ``test_jobs_*`` files. Trained model directories are built
once per test session (cached here) and must be treated as read-only by the tests.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cnforecast.cli.main import main
from cnforecast.jobs.config import FitConfig
from cnforecast.jobs.fit import fit_job
from cnforecast.models.registry import get_model_spec

ICL, OCL = 16, 4
REPO = Path(__file__).resolve().parents[1]


def model_kwargs(name: str = "circuitnet") -> dict[str, Any]:
    """The registry test settings of a model, without the training keys FitConfig names."""
    settings = dict(get_model_spec(name).test_settings)
    settings.pop("n_epochs", None)
    settings.pop("batch_size", None)
    return settings


def tiny_config(**overrides: Any) -> FitConfig:
    """A FitConfig that trains CircuitNet with its test settings for one epoch on the CPU."""
    base = {
        "model": "circuitnet",
        "input_chunk_length": ICL,
        "output_chunk_length": OCL,
        "epochs": 1,
        "batch_size": 16,
        "accelerator": "cpu",
        "model_kwargs": model_kwargs(),
        "time_col": "time",
        "target_cols": ["a", "b"],
        "past_cov_cols": ["temp"],
        "future_cov_cols": ["hour"],
        "id_col": "id",
    }
    return FitConfig.from_dict({**base, **overrides})


def write_config(path: Path, **overrides: Any) -> Path:
    """Write :func:`tiny_config` (with ``overrides``) as a YAML file."""
    path.write_text(yaml.safe_dump(tiny_config(**overrides).to_dict()))
    return path


def make_frame(
    n_series: int = 2,
    length: int = 60,
    future_rows: int = OCL,
    freq: str = "h",
    seed: int = 0,
    ids: list[str] | None = None,
) -> pd.DataFrame:
    """A long table: id, time, targets a and b, past covariate temp, future covariate hour.

    The last ``future_rows`` rows of each series have empty targets and past covariates
    (future rows: only the future covariate is known).
    """
    rng = np.random.default_rng(seed)
    ids = ids or [f"s{i}" for i in range(n_series)]
    frames = []
    for k, key in enumerate(ids):
        total = length + future_rows
        time = pd.date_range("2024-01-01", periods=total, freq=freq)
        step = np.arange(total)
        a = 10 + k + np.sin(step / 3) + rng.normal(0, 0.1, total)
        frame = pd.DataFrame(
            {
                "id": key,
                "time": time,
                "a": a,
                "b": 2 * a + rng.normal(0, 0.1, total),
                "temp": np.cos(step / 5),
                "hour": (step % 24).astype(float),
            }
        )
        frame.loc[length:, ["a", "b", "temp"]] = np.nan
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


_CACHE: dict[str, Path] = {}
_ROOT = Path(tempfile.mkdtemp(prefix="cnforecast-jobs-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


def trained_model_dir(kind: str = "covariates") -> Path:
    """A model directory trained in-process once per session.

    ``"covariates"``: deterministic CircuitNet on :func:`make_frame` (id, past and future
    covariates). ``"probabilistic"``: CircuitNet with a quantile likelihood on one series
    of target ``a`` without covariates or id. ``"plain"``: deterministic CircuitNet on
    targets ``a`` and ``b`` with an id and no covariates (predicts through its darts-free
    network by default).
    """
    if kind not in _CACHE:
        out = _ROOT / kind
        if kind == "covariates":
            fit_job(make_frame(), tiny_config(), out=out, quiet=True)
        elif kind == "plain":
            config = tiny_config(past_cov_cols=[], future_cov_cols=[])
            fit_job(make_frame(future_rows=0), config, out=out, quiet=True)
        elif kind == "probabilistic":
            config = tiny_config(
                target_cols=["a"],
                past_cov_cols=[],
                future_cov_cols=[],
                id_col=None,
                likelihood="quantile",
                quantiles=[0.1, 0.5, 0.9],
            )
            fit_job(make_frame(n_series=1, future_rows=0), config, out=out, quiet=True)
        else:
            raise ValueError(kind)
        _CACHE[kind] = out
    return _CACHE[kind]


def job_args(
    command: str, model_dir: str | Path, data: str | Path, out: str | Path, *extra: str
) -> list[str]:
    """Arguments of ``cnforecast COMMAND`` (predict, backtest) on the CPU, without output."""
    return [
        command,
        "--model-dir",
        str(model_dir),
        "--data",
        str(data),
        "--out",
        str(out),
        "--accelerator",
        "cpu",
        "--quiet",
        *extra,
    ]


def run_main(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    """Run the CLI in-process: its exit status, stdout and stderr (``capsys`` captures them)."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``python -m cnforecast ARGS`` in a subprocess (one thread, captured output)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cnforecast", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )
