"""The long-horizon forecasting benchmark: configuration, runner, records, report, plots.

Training, the test protocol and the metrics are the engine's (:mod:`cnforecast.engine`).

Typical use (the ``cnforecast bench`` command does the same)::

    from cnforecast.bench import load_config, run_benchmark, write_report, make_plots

    config = load_config("examples/configs/quickstart.yaml")
    records = run_benchmark(config)
    plots = make_plots(records, config.out, f"{config.out}/plots")
    write_report(records, config.out, plots=plots)
"""

from cnforecast.bench.config import BenchConfig, ConfigError, ModelConfig, load_config
from cnforecast.bench.plots import make_plots
from cnforecast.bench.records import read_records
from cnforecast.bench.report import markdown_table, write_report
from cnforecast.bench.runner import run_benchmark
from cnforecast.engine.evaluation import evaluate
from cnforecast.engine.metrics import mae, mse

__all__ = [
    "BenchConfig",
    "ConfigError",
    "ModelConfig",
    "evaluate",
    "load_config",
    "mae",
    "make_plots",
    "markdown_table",
    "mse",
    "read_records",
    "run_benchmark",
    "write_report",
]
