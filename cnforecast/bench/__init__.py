"""The long-horizon forecasting benchmark: configuration, runner, records, report, plots.

Training, the test protocol and the metrics are the engine's (:mod:`cnforecast.engine`).

Typical use (the ``cnforecast bench`` command does the same)::

    from cnforecast.bench import load_config, run_benchmark, write_report, make_plots

    config = load_config("examples/configs/quickstart.yaml")
    records = run_benchmark(config)
    plots = make_plots(records, config.out, f"{config.out}/plots")
    write_report(records, config.out, plots=plots)
"""

from cnforecast._lazy import lazy_getattr

# Imported on first use, so that the command line starts without torch and darts.
_EXPORTS = {
    "BenchConfig": "cnforecast.bench.config",
    "ConfigError": "cnforecast.bench.config",
    "ModelConfig": "cnforecast.bench.config",
    "evaluate": "cnforecast.engine.evaluation",
    "load_config": "cnforecast.bench.config",
    "mae": "cnforecast.engine.metrics",
    "make_plots": "cnforecast.bench.plots",
    "markdown_table": "cnforecast.bench.report",
    "mse": "cnforecast.engine.metrics",
    "read_records": "cnforecast.bench.records",
    "run_benchmark": "cnforecast.bench.runner",
    "write_report": "cnforecast.bench.report",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
