"""Measure ``cnforecast forecast-batch`` file to file, start-up included.

Writes 3,000 hourly series (``--files`` CSV files of ``--series`` series, long tables with
an id column, 120 rows a series) and a training table, trains a CircuitNet (L = 96, H = 24,
one epoch: the speed does not depend on the training), then runs each command ``--runs``
times in a fresh process, the commands taking turns (so that the machine's drift hits them
alike), and prints the minimum, median and maximum wall time and series/s:

- ``import torch`` alone (how fast the machine is right now: the floor of any torch job),
- ``forecast-batch`` with each engine: the default (ONNX Runtime, when the ``onnx`` extra
  is installed), the torch network (``--engine network``) and the darts model;
- forecasting alone: the 3,000 windows in memory through each darts-free engine (in this
  process, warmed up, the engines taking turns).

Usage (from the repository root)::

    python examples/batch_job/measure_speed.py --work /tmp/batch-speed
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def series_table(first: int, count: int, length: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` hourly series with a daily cycle, a level of their own and noise."""
    t = np.arange(length)
    frames = [
        pd.DataFrame(
            {
                "id": f"s{first + i:05d}",
                "time": pd.date_range("2024-01-01", periods=length, freq="h"),
                "y": np.round(
                    10
                    + 5 * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 6))
                    + rng.normal(0, 0.5, length),
                    3,
                ),
            }
        )
        for i in range(count)
    ]
    return pd.concat(frames, ignore_index=True)


def timed(commands: dict[str, list[str]], runs: int, before=None) -> dict[str, list[float]]:
    """Wall times of ``runs`` runs of each command, the commands taking turns
    (``before()`` is called before each run)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            if before is not None:
                before()
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("batch-speed"), help="work folder")
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--series", type=int, default=100, help="series per file")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    work = args.work
    inputs = work / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    series_table(0, 20, 400, rng).to_csv(work / "train.csv", index=False)
    for f in range(args.files):
        table = series_table(f * args.series, args.series, 120, rng)
        table.to_csv(inputs / f"f{f:03d}.csv", index=False)
    cli = [sys.executable, "-m", "cnforecast"]
    model = work / "model"
    if not model.exists():
        subprocess.run(
            [*cli, "fit", "--data", str(work / "train.csv"), "--time-col", "time",
             "--target-cols", "y", "--id-col", "id", "--input-chunk-length", "96",
             "--output-chunk-length", "24", "--epochs", "1", "--accelerator", "cpu",
             "--quiet", "--out", str(model)],
            check=True,
        )  # fmt: skip
    n_series = args.files * args.series
    out = work / "out"

    def clear() -> None:
        shutil.rmtree(out, ignore_errors=True)

    batch = [*cli, "forecast-batch", "--model-dir", str(model), "--inputs", str(inputs),
             "--out", str(out), "-n", "24", "--accelerator", "cpu", "--quiet"]  # fmt: skip
    commands = {
        "import torch": [sys.executable, "-c", "import torch"],
        "forecast-batch (default: onnx)": batch,
        "forecast-batch --engine network": [*batch, "--engine", "network"],
        "forecast-batch --engine darts": [*batch, "--engine", "darts"],
    }
    rows = timed(commands, args.runs, clear).items()
    print(f"{n_series} series in {args.files} files, {args.runs} runs each (wall time, seconds)")
    print("| command | min | median | max | series/s at the median |")
    print("|---|---|---|---|---|")
    for name, times in [*rows, *model_only(model, n_series, args.runs).items()]:
        median = statistics.median(times)
        rate = f"{n_series / median:,.0f}" if name != "import torch" else ""
        print(f"| {name} | {min(times):.2f} | {median:.2f} | {max(times):.2f} | {rate} |")


def model_only(model: Path, n_series: int, runs: int) -> dict[str, list[float]]:
    """Forecast times of ``n_series`` windows (L = 96, n = 24) in memory, per engine."""
    import torch

    from cnforecast.inference import NetworkPredictor, OnnxRunner, load_network

    torch.set_num_threads(2)
    windows = np.random.default_rng(0).normal(size=(n_series, 96, 1)).astype(np.float32)
    engines = {
        "forecast alone, torch network": NetworkPredictor(load_network(model / "network.pt"))
    }
    if (model / "network.onnx").exists():
        engines["forecast alone, ONNX Runtime"] = NetworkPredictor(
            OnnxRunner(model / "network.onnx")
        )
    cycle = next(iter(engines.values())).cycle_length  # the default learns a daily cycle
    phases = np.random.default_rng(1).integers(0, cycle, n_series) if cycle else None
    times: dict[str, list[float]] = {name: [] for name in engines}
    for predictor in engines.values():
        predictor.forecast(windows, 24, phases=phases)  # warm-up
    for _ in range(runs):
        for name, predictor in engines.items():
            start = time.perf_counter()
            predictor.forecast(windows, 24, phases=phases)
            times[name].append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    main()
