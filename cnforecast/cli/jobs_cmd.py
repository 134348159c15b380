"""``cnforecast fit | predict | backtest | forecast-batch``: the forecasting jobs.

Thin wrappers over :mod:`cnforecast.jobs`: they parse flags, call the library and print the
result. Errors are reported by :func:`cnforecast.cli.main.main`: a one-line message on
stderr and exit status 1 for every error these commands report (argparse usage errors exit
with 2, an interruption with 130).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cnforecast.cli import args as types

#: The job commands exit with 1 on a configuration error too (their status since 0.1).
JOB_USAGE_STATUS = 1
#: ``--fill`` values; checked against :data:`cnforecast.jobs.tabular.FILL_METHODS` when used.
_FILL_HELP = "an error (none), ffill, interpolate or zero"


def _fill(text: str) -> str:
    from cnforecast.jobs.tabular import FILL_METHODS

    if text not in FILL_METHODS:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(FILL_METHODS)})"
        )
    return text


def _start(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction or a position, got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"a fractional start must be in (0, 1), got {value}")
    return value


def _job(parser: argparse.ArgumentParser, func: Any, predicts: bool = False) -> None:
    """Set the command's function; ``predicts``: its engine decides what to import first."""
    from cnforecast.cli.startup import JOB_LIBRARIES, predict_libraries

    preload = predict_libraries if predicts else JOB_LIBRARIES
    parser.set_defaults(func=func, usage_status=JOB_USAGE_STATUS, preload=preload)


def _common(
    parser: argparse.ArgumentParser,
    *,
    training: bool = False,
    overwrite_help: str = "replace an existing output",
) -> None:
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    parser.add_argument("--quiet", action="store_true", help="no progress bar, errors only")
    parser.add_argument(
        "--accelerator", default=None, help="Lightning accelerator: cpu, gpu or auto (default)"
    )
    default = "none" if training else "the setting the model was trained with"
    parser.add_argument(
        "--fill",
        type=_fill,
        default=None,
        help=f"missing values: {_FILL_HELP} (default: {default})",
    )


def _common_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The options :func:`_common` adds, as keyword arguments of an inference job."""
    return {
        "fill": args.fill,
        "overwrite": args.overwrite,
        "accelerator": args.accelerator or "auto",
        "quiet": args.quiet,
    }


def _model_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", required=True, help="model directory from `cnforecast fit`")


def _horizon_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", type=types.positive, required=True, help="forecast horizon in time steps"
    )


def _sampling_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--num-samples", type=types.positive, help="samples of a probabilistic model (default 100)"
    )
    parser.add_argument(
        "--quantiles",
        type=types.numbers,
        default=None,
        help="quantile columns of a probabilistic model (default 0.1,0.5,0.9)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit``, ``predict``, ``backtest`` and ``forecast-batch`` commands."""
    _register_fit(subparsers)
    _register_predict(subparsers)
    _register_backtest(subparsers)
    _register_batch(subparsers)


# --------------------------------------------------------------------------------------- fit
def _register_fit(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fit",
        help="train a model on a CSV/Parquet table and save a model directory",
        description="Train a model on a CSV/Parquet table and save a model directory. "
        "Flags override the --config file, which overrides the defaults.",
    )
    data = p.add_argument_group("data")
    data.add_argument("--data", required=True, help="training table (.csv or .parquet)")
    data.add_argument("--time-col", help="time column (dates/times or integers)")
    data.add_argument("--target-cols", type=types.names, help="comma-separated target columns")
    data.add_argument("--past-cov-cols", type=types.names, help="past covariate columns")
    data.add_argument("--future-cov-cols", type=types.names, help="future covariate columns")
    data.add_argument("--id-col", help="series id column of a long table with many series")
    model = p.add_argument_group("model and training")
    model.add_argument("--config", help="YAML file with FitConfig keys (see docs/cli.md)")
    model.add_argument("--model", help="registry model name (default circuitnet)")
    model.add_argument("--input-chunk-length", type=types.positive, help="look-back (default 96)")
    model.add_argument("--output-chunk-length", type=types.positive, help="horizon (default 24)")
    model.add_argument("--epochs", type=types.positive, help="training epochs")
    model.add_argument("--batch-size", type=types.positive, help="training batch size")
    model.add_argument("--lr", type=float, help="learning rate")
    model.add_argument("--seed", type=int, help="random seed (default 42)")
    model.add_argument(
        "--likelihood", choices=("quantile", "gaussian"), help="train a probabilistic model"
    )
    model.add_argument(
        "--quantiles",
        type=types.numbers,
        help="quantiles of --likelihood quantile (must include 0.5)",
    )
    model.add_argument(
        "--val-fraction",
        type=float,
        help="end fraction of each series held out for validation (default 0)",
    )
    model.add_argument(
        "--early-stopping-patience",
        type=types.positive,
        help="epochs without validation improvement before stopping",
    )
    model.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="standard-scale targets and covariates (default: yes)",
    )
    hw = p.add_argument_group("hardware (Lightning Trainer)")
    hw.add_argument("--devices", type=types.devices, help="device count or 'auto'")
    hw.add_argument("--strategy", help="e.g. ddp, ddp_spawn, auto (default)")
    hw.add_argument("--num-nodes", type=types.positive, help="machines in a multi-node run")
    hw.add_argument("--precision", help="Lightning precision, e.g. 32-true")
    p.add_argument("--out", required=True, help="model directory to create")
    _common(p, training=True)
    _job(p, _fit)


def _fit(args: argparse.Namespace) -> int:
    from cnforecast.jobs.config import FitConfig
    from cnforecast.jobs.fit import fit_job

    config = FitConfig.from_yaml(args.config) if args.config else FitConfig()
    config = config.with_flags(vars(args))  # flags over the file, by field name
    result = fit_job(args.data, config, out=args.out, overwrite=args.overwrite, quiet=args.quiet)
    if result.is_global_zero:
        data = result.manifest["data"]
        print(
            f"saved {config.model} model to {result.out} "
            f"({data['n_series']} series, frequency {data['freq']})"
        )
    return 0


# ----------------------------------------------------------------------------------- predict
def _register_predict(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="forecast the next n steps of each series in a table",
        description="Forecast the next n steps after the end of each series in a table, "
        "with a model directory written by `cnforecast fit`.",
    )
    _model_dir_arg(p)
    p.add_argument("--data", required=True, help="history table (.csv or .parquet)")
    _horizon_arg(p)
    _sampling_args(p)
    p.add_argument("--batch-size", type=types.positive, help="series per forward pass")
    _rollout_arg(p)
    _engine_arg(p)
    p.add_argument("--out", required=True, help="forecast table to write (.csv or .parquet)")
    _common(p)
    _job(p, _predict, predicts=True)


def _rollout_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-rollouts",
        type=types.positive,
        help="most chunks of output_chunk_length steps one forecast may chain (default 10); "
        "-n beyond that is refused",
    )


def _engine_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=("auto", "darts", "network", "onnx"),
        default="auto",
        help="what predicts: the darts-free network of a CircuitNet model without covariates "
        "or likelihood (same forecasts, seconds less start-up), through ONNX Runtime on the "
        "CPU where the model directory has network.onnx and onnxruntime is installed, else "
        "torch; else the darts model (auto, the default); darts, network or onnx to insist",
    )


def _rollout_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_rollouts": args.max_rollouts} if args.max_rollouts else {}


def _predict(args: argparse.Namespace) -> int:
    from cnforecast.jobs.predict import DEFAULT_QUANTILES, predict_job

    frame = predict_job(
        args.model_dir,
        args.data,
        args.n,
        out=args.out,
        num_samples=args.num_samples,
        quantiles=args.quantiles or DEFAULT_QUANTILES,
        batch_size=args.batch_size,
        engine=args.engine,
        **_rollout_kwargs(args),
        **_common_kwargs(args),
    )
    print(f"wrote {len(frame)} rows to {args.out}")
    return 0


# ---------------------------------------------------------------------------------- backtest
def _register_backtest(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="historical forecasts of a saved model, with metrics and a plot",
        description="Rolling-origin evaluation of a saved model: forecasts from --start on, "
        "every --stride steps; writes metrics.json, metrics.csv, forecasts.csv and "
        "backtest.png to --out.",
    )
    _model_dir_arg(p)
    p.add_argument("--data", required=True, help="table with the series (.csv or .parquet)")
    p.add_argument(
        "--start",
        type=_start,
        default=0.8,
        help="first forecast point: a fraction of each series (0.8, default) "
        "or a position (an integer)",
    )
    p.add_argument(
        "--horizon",
        type=types.positive,
        help="steps per forecast (default: the model's output_chunk_length)",
    )
    p.add_argument(
        "--stride", type=types.positive, help="steps between forecasts (default: horizon)"
    )
    p.add_argument(
        "--retrain",
        type=types.boolean,
        nargs="?",
        const=True,
        default=False,
        help="retrain before each forecast (slow; default false)",
    )
    p.add_argument(
        "--num-samples",
        type=types.positive,
        help="samples per forecast of a probabilistic model; their mean is scored (default 100)",
    )
    p.add_argument("--out", required=True, help="report directory to create")
    _common(p)
    _job(p, _backtest)


def _backtest(args: argparse.Namespace) -> int:
    from cnforecast.jobs.backtest import backtest_job

    result = backtest_job(
        args.model_dir,
        args.data,
        args.out,
        start=args.start,
        horizon=args.horizon,
        stride=args.stride,
        retrain=args.retrain,
        num_samples=args.num_samples,
        **_common_kwargs(args),
    )
    overall = result.metrics["overall"]
    mape = overall["mape"]
    mape_text = f"{mape:.3f}%" if mape is not None else "not defined (zeros in the actuals)"
    print(
        f"{result.metrics['settings']['n_forecasts']} forecasts, {overall['n_points']} points: "
        f"MSE {overall['mse']:.6g}, MAE {overall['mae']:.6g}, MAPE {mape_text}"
    )
    print(f"wrote the report to {args.out}")
    return 0


# ---------------------------------------------------------------------------- forecast-batch
def _register_batch(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "forecast-batch",
        help="forecast many files with one model, in batches, resumably",
        description="Forecast every series of many input files with batched predict calls. "
        "Existing outputs are skipped (resumable); a bad file is reported in "
        "OUT/_summary.json and the exit status is 1, the other files are still done.",
    )
    _model_dir_arg(p)
    p.add_argument(
        "--inputs", required=True, nargs="+", help="a folder, a quoted glob ('data/*.csv') or files"
    )
    p.add_argument("--out", required=True, help="output folder (created if needed)")
    _horizon_arg(p)
    p.add_argument(
        "--batch-size",
        type=types.positive,
        default=256,
        help="series per forward pass (default 256)",
    )
    p.add_argument(
        "--series-per-call",
        type=types.positive,
        default=4096,
        help="files are grouped into predict calls of this many series (default 4096)",
    )
    _sampling_args(p)
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="output file format (default csv)",
    )
    _rollout_arg(p)
    _engine_arg(p)
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="shard the files over Ray workers: alone, a local Ray instance; 'auto' joins "
        "the cluster of this machine; 'ray://HEAD:10001' a remote one (needs ray)",
    )
    p.add_argument(
        "--ray-workers",
        type=types.positive,
        help="Ray workers, each loading the model once (default: one per CPU of the cluster)",
    )
    _common(p, overwrite_help="recompute outputs that exist instead of skipping them")
    _job(p, _batch, predicts=True)


def _batch(args: argparse.Namespace) -> int:
    from cnforecast.jobs.batch import SUMMARY_FILE, forecast_batch_job
    from cnforecast.jobs.predict import DEFAULT_QUANTILES

    summary = forecast_batch_job(
        args.model_dir,
        args.inputs,
        args.out,
        args.n,
        batch_size=args.batch_size,
        num_samples=args.num_samples,
        quantiles=args.quantiles or DEFAULT_QUANTILES,
        output_format=args.format,
        ray=args.ray,
        ray_workers=args.ray_workers,
        series_per_call=args.series_per_call,
        engine=args.engine,
        **_rollout_kwargs(args),
        **_common_kwargs(args),
    )
    record: dict[str, Any] = summary.to_dict()
    print(
        f"{record['total']} files: {record['n_written']} written, {record['n_skipped']} "
        f"skipped (already done), {record['n_failed']} failed; {record['n_series']} series in "
        f"{record['n_predict_calls']} predict call(s)"
    )
    for failure in summary.failed:
        print(f"failed: {failure['error']}", file=sys.stderr)
    print(f"summary: {args.out}/{SUMMARY_FILE}")
    return 0 if summary.ok else 1
