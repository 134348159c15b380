"""``cnforecast bench``: run the benchmark grid; ``cnforecast bench report``: tables and plots.

Examples::

    cnforecast bench --config examples/configs/quickstart.yaml --out results/quickstart
    cnforecast bench --models dlinear,tsmixer --datasets ETTh1 --horizons 96,336 --epochs 3
    cnforecast bench --config examples/configs/full.yaml --resume --accelerator gpu
    cnforecast bench report results/quickstart/records.jsonl --out results/quickstart
    cnforecast bench throughput --models circuitnet,transformer,dlinear --dataset ETTh1

Flags override the configuration file. ``--data PATH`` (or ``CNFORECAST_DATA``) says where
the data files are. Results: ``<out>/records.jsonl`` (one JSON record per run),
``<out>/report.md`` and ``<out>/plots/*.png``; the table is printed at the end.
``cnforecast bench throughput`` trains every model on the same windows at one batch size and
appends one record per model to ``results/throughput.jsonl`` (training speed only).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnforecast.cli import args as types
from cnforecast.datasets.paths import absolute
from cnforecast.errors import ConfigError

_MODELS_HELP = "comma-separated registry names (`cnforecast models` lists them)"


def _data_args(parser: argparse.ArgumentParser) -> None:
    """``--data``, ``--no-download`` and ``--no-verify``: where the data files come from."""
    parser.add_argument(
        "--data",
        type=absolute,
        help="folder (or file) of the data; default: CNFORECAST_DATA",
    )
    parser.add_argument(
        "--no-download", action="store_true", help="never download missing data files"
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the checksum and row-count checks (synthetic or modified files)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command (and its ``report`` sub-command) to the CLI."""
    from cnforecast.bench.config import ACCELERATORS, PRESETS

    parser = subparsers.add_parser(
        "bench",
        usage=(
            "cnforecast bench [--config FILE] [--models a,b] [--datasets ...] "
            "[--horizons 96,336] [--seeds ...] [--epochs N] [--out DIR] [--data PATH] "
            "[--accelerator ...] [other flags]\n"
            "       cnforecast bench report RECORDS.jsonl [--out DIR]\n"
            "       cnforecast bench throughput --models a,b [--dataset ETTh1] [--horizon 96] "
            "[--windows 1024] [--batch-size 32] [--epochs 2] [--out FILE.jsonl]"
        ),
        help="run the long-horizon benchmark (models x datasets x horizons x seeds)",
        description=(
            "Train and test models on the standard long-horizon splits (train z-score, early "
            "stopping on validation, every test window at stride 1) and write one JSON record "
            "per run, a Markdown report and plots. Flags override the --config file. "
            "'cnforecast bench report RECORDS.jsonl' rebuilds the report from records; "
            "'cnforecast bench throughput' compares training speed."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="YAML configuration (examples/configs/)")
    parser.add_argument(
        "--models",
        type=types.model_names,
        help=(
            f"{_MODELS_HELP}; with --config, keeps the file's entries of these models "
            "(variants included) and adds the others"
        ),
    )
    parser.add_argument("--datasets", type=types.names, help="comma-separated data-set names")
    parser.add_argument(
        "--horizons", type=types.integers, help="comma-separated horizons, e.g. 96,336"
    )
    parser.add_argument("--lookback", type=int, help="input length L (default 96)")
    parser.add_argument("--seeds", type=types.integers, help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument(
        "--epochs",
        type=int,
        help="at most N epochs for every model (overrides per-model n_epochs too)",
    )
    parser.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    parser.add_argument(
        "--max-train-windows", type=int, help="at most N random training windows per epoch"
    )
    parser.add_argument(
        "--preset", choices=PRESETS, help="'test': every model with its small test settings"
    )
    parser.add_argument("--out", help="output folder (default: the config's, else results/bench)")
    _data_args(parser)
    parser.add_argument("--accelerator", choices=ACCELERATORS, help="Lightning accelerator")
    parser.add_argument(
        "--devices", type=types.devices, help="Lightning devices: a count or indices (default 1)"
    )
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default: all cores; 1 on a busy CPU)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip runs already recorded as ok in <out>"
    )
    parser.add_argument("--no-plots", action="store_true", help="do not draw plots")
    parser.set_defaults(func=run_bench, bench_command=None)

    sub = parser.add_subparsers(dest="bench_command", metavar="{report,throughput,speed}")
    report = sub.add_parser(
        "report",
        help="rebuild the Markdown report and plots from a records file",
        description="Rebuild report.md and plots/ from the JSON records of earlier runs.",
    )
    report.add_argument("records", type=Path, help="records file (records.jsonl)")
    report.add_argument("--out", type=Path, help="output folder (default: the records' folder)")
    report.add_argument("--title", default="Benchmark", help="report title")
    report.add_argument("--no-plots", action="store_true", help="do not draw plots")
    report.set_defaults(func=run_report)

    _register_throughput(sub)

    from cnforecast.cli.speed_cmd import register_speed

    register_speed(sub)


def _register_throughput(sub: argparse._SubParsersAction) -> None:
    from cnforecast.bench.config import ACCELERATORS, DEFAULT_REFERENCE, PRESETS

    parser = sub.add_parser(
        "throughput",
        prog="cnforecast bench throughput",
        help="compare training throughput (windows/s), every model on the same windows",
        description=(
            "Train each model on the first N training windows of a data set's standard "
            "split, at one batch size for all (registry batch sizes are overridden), without "
            "validation; time every epoch, drop the first as warm-up and report windows/s and "
            "the ratio to a reference model. Training throughput only (forward + backward + "
            "optimizer step), not prediction. Records are appended as JSON lines to --out."
        ),
    )
    parser.add_argument(
        "--models",
        type=types.model_names,
        required=True,
        help=_MODELS_HELP,
    )
    parser.add_argument("--dataset", default="ETTh1", help="data-set name (default ETTh1)")
    parser.add_argument("--horizon", type=int, default=96, help="output length H (default 96)")
    parser.add_argument("--lookback", type=int, default=96, help="input length L (default 96)")
    parser.add_argument(
        "--windows", type=int, default=1024, help="training windows per epoch (default 1024)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="batch size of every model (default 32)"
    )
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs; the first is warm-up when >= 2 (default 2)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: unchanged)")
    parser.add_argument(
        "--accelerator", choices=ACCELERATORS, default="cpu", help="Lightning accelerator"
    )
    parser.add_argument(
        "--reference",
        help=(
            f"model the ratios are taken to (default {DEFAULT_REFERENCE} when measured, "
            "else the first model)"
        ),
    )
    parser.add_argument(
        "--preset", choices=PRESETS, default="default", help="'test': small test settings"
    )
    _data_args(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/throughput.jsonl"),
        help="JSON-lines file the records are appended to (default results/throughput.jsonl)",
    )
    parser.set_defaults(func=run_throughput)


def build_config(args: argparse.Namespace):
    """The :class:`~cnforecast.bench.config.BenchConfig` of the file and flags."""
    from cnforecast.bench.config import BenchConfig, ModelConfig, load_config

    overrides: dict[str, Any] = {
        "datasets": args.datasets,
        "horizons": args.horizons,
        "lookback": args.lookback,
        "seeds": args.seeds,
        "max_epochs": args.epochs,
        "patience": args.patience,
        "max_train_windows": args.max_train_windows,
        "out": args.out,
        "data": args.data,
        "download": False if args.no_download else None,
        "verify": False if args.no_verify else None,
        "accelerator": args.accelerator,
        "devices": args.devices,
        "num_threads": args.threads,
        "plots": False if args.no_plots else None,
    }
    if args.config is not None:
        config = load_config(args.config)
    else:
        if not args.models or not args.datasets:
            raise ConfigError("without --config, give at least --models and --datasets")
        config = BenchConfig(models=tuple(args.models), datasets=tuple(args.datasets))
    models = list(config.models)
    if args.models:
        kept = [m for m in models if m.name in args.models]
        have = {m.name for m in kept}
        models = kept + [ModelConfig(name=n) for n in args.models if n not in have]
    if args.preset is not None:
        models = [dataclasses.replace(m, preset=args.preset) for m in models]
    return config.replace(models=tuple(models), **overrides)


def _progress(total: int):
    count = 0

    def show(record: Mapping[str, Any]) -> None:
        nonlocal count
        count += 1
        head = (
            f"[{count}/{total}] {record['label']} {record['dataset']} "
            f"L={record['lookback']} H={record['horizon']} seed={record['seed']}:"
        )
        if record["status"] == "ok":
            print(
                f"{head} MSE {record['mse']:.4f} MAE {record['mae']:.4f} "
                f"({record['epochs_run']} epochs, {record['train_time_s']:.1f} s train, "
                f"{record['n_test_windows']} test windows)",
                flush=True,
            )
        else:
            print(f"{head} {record['status']}: {record['error']}", flush=True)

    return show


def _finish(records: list, records_dir: Path, out: Path, plots: bool, title: str) -> None:
    from cnforecast.bench.plots import PLOTS_DIR, make_plots
    from cnforecast.bench.report import markdown_table, write_report

    drawn = make_plots(records, records_dir, out / PLOTS_DIR) if plots else []
    report = write_report(records, out, title=title, plots=drawn)
    print()
    print(markdown_table(records))
    print()
    print(f"report: {report}")
    if drawn:
        print(f"plots:  {out / PLOTS_DIR} ({len(drawn)} files)")


def run_bench(args: argparse.Namespace) -> int:
    """Run the grid, print progress and the table; exit code 1 if any run failed."""
    from cnforecast.bench.records import latest_records, read_records
    from cnforecast.bench.runner import RECORDS_FILE, run_benchmark

    config = build_config(args)
    total = config.n_runs()
    out = Path(config.out)
    print(
        f"cnforecast bench: {total} run(s) "
        f"({len(config.models)} models x {len(config.datasets)} data sets x "
        f"{len(config.horizons)} horizons x {len(config.seeds)} seeds), L={config.lookback}, "
        f"output {out}",
        flush=True,
    )
    records = run_benchmark(config, resume=args.resume, on_record=_progress(total))
    if args.resume:  # report on everything recorded, not only this invocation
        records = latest_records(read_records(out / RECORDS_FILE))
    title = f"Benchmark: {args.config.stem}" if args.config else "Benchmark"
    _finish(records, out, out, config.plots, title)
    print(f"records: {out / RECORDS_FILE}")
    return 1 if any(r["status"] == "failed" for r in records) else 0


def run_report(args: argparse.Namespace) -> int:
    """Rebuild the report and plots from a records file."""
    from cnforecast.bench.records import read_records

    if not args.records.is_file():
        raise ConfigError(f"no file {args.records}")
    records = read_records(args.records)
    if not records:
        raise ConfigError(f"{args.records} holds no record")
    out = args.out or args.records.parent
    _finish(records, args.records.parent, Path(out), not args.no_plots, args.title)
    return 0


def run_throughput(args: argparse.Namespace) -> int:
    """Measure, print the table, append the records; exit code 1 if a model failed."""
    from cnforecast.bench.config import DEFAULT_REFERENCE
    from cnforecast.bench.records import write_record
    from cnforecast.bench.throughput import measure_throughput, throughput_table

    reference = args.reference
    if reference is None:
        reference = DEFAULT_REFERENCE if DEFAULT_REFERENCE in args.models else args.models[0]
    elif reference not in args.models:
        raise ConfigError(
            f"--reference {reference} is not among --models ({', '.join(args.models)})"
        )
    split = types.standard_split(args)
    print(
        f"cnforecast bench throughput: {', '.join(args.models)} on {args.dataset} "
        f"L={args.lookback} H={args.horizon}, {args.windows} windows x {args.epochs} epoch(s), "
        f"batch size {args.batch_size}",
        flush=True,
    )
    records = measure_throughput(
        args.models,
        split,
        args.horizon,
        n_windows=args.windows,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        threads=args.threads,
        accelerator=args.accelerator,
        reference=reference,
        preset=args.preset,
    )
    for record in records:
        write_record(args.out, record)
        if record["status"] != "ok":
            print(f"{record['label']}: {record['status']}: {record['error']}", flush=True)
    print()
    print(throughput_table(records))
    print()
    print("training throughput only (forward + backward + optimizer step), not prediction")
    print(f"device: {next((r['device'] for r in records if r['device']), 'n/a')}")
    print(f"records: {args.out}")
    return 1 if any(r["status"] == "failed" for r in records) else 0
