"""``cnforecast bench speed``: every speed and scale measurement on the device at hand.

Examples::

    cnforecast bench speed --out results/speed                # GPU sizes on a GPU, else CPU
    cnforecast bench speed --accelerator cpu --threads 2 --out results/speed
    cnforecast bench speed --measures module_step,data_path --sizes tiny

Appends one JSON record per measurement to ``<out>/speed.jsonl`` and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cnforecast.cli import args as types
from cnforecast.errors import ConfigError

_ACCELERATORS = ("auto", "cpu", "gpu")
_SIZES = ("gpu", "cpu", "tiny")
#: The file, inside ``--out``, the records are appended to.
RECORDS_FILE = "speed.jsonl"


def register_speed(sub: argparse._SubParsersAction) -> None:
    """Add ``cnforecast bench speed`` to the ``bench`` sub-commands."""
    from cnforecast.cli.bench_cmd import _data_args

    parser = sub.add_parser(
        "speed",
        prog="cnforecast bench speed",
        help="speed and scale on this device: module step, throughput, data path, memory",
        description=(
            "Measure on one device (a GPU if there is one, else the CPU, with sizes that fit "
            "it): the bare module's training step (ms), darts training throughput of "
            "CircuitNet, the Transformer and DLinear (windows/s, ratio to the Transformer), "
            "darts' training dataset against the vectorised one, training and prediction at a "
            "large batch and on a wide series (peak memory), every test window through "
            "historical_forecasts (s) and predict on many short series (series/s). One JSON "
            "record per measurement is appended to <out>/speed.jsonl."
        ),
    )
    parser.add_argument(
        "--accelerator",
        choices=_ACCELERATORS,
        default="auto",
        help="'auto' (default): the GPU when torch sees one, else the CPU",
    )
    parser.add_argument(
        "--sizes",
        choices=_SIZES,
        help="size set (default: gpu on a GPU, cpu on the CPU; tiny for smoke tests)",
    )
    parser.add_argument(
        "--measures",
        help="comma-separated measurements to run (default: all, in their order)",
    )
    parser.add_argument("--dataset", default="ETTh1", help="data set (default ETTh1)")
    parser.add_argument("--lookback", type=int, default=96, help="input length L (default 96)")
    parser.add_argument("--horizon", type=int, default=96, help="output length H (default 96)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: unchanged)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _data_args(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/speed"),
        help=f"folder; records are appended to <out>/{RECORDS_FILE} (default results/speed)",
    )
    parser.set_defaults(func=run_speed)


def run_speed(args: argparse.Namespace) -> int:
    """Measure, append the records, print the table; exit code 1 if a measurement failed."""
    import torch

    from cnforecast.bench.records import write_record
    from cnforecast.bench.runner import load_standard_split
    from cnforecast.bench.speed import MEASURES, SIZES, default_sizes, measure_speed, speed_table
    from cnforecast.cli.main import quiet_libraries
    from cnforecast.datasets import write_synthetic_dataset
    from cnforecast.datasets.errors import DatasetNotFoundError, DownloadError
    from cnforecast.datasets.registry import get_dataset_info

    # Lightning sets its loggers to INFO when imported (just now): quiet them again
    quiet_libraries(getattr(args, "quiet", False), getattr(args, "verbose", 0))

    accelerator = args.accelerator
    if accelerator == "auto":
        accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    measures = list(MEASURES)
    if args.measures:
        measures = [m.strip() for m in args.measures.split(",") if m.strip()]
        unknown = [m for m in measures if m not in MEASURES]
        if unknown or not measures:
            raise ConfigError(
                f"--measures: unknown {', '.join(unknown) or '(none)'}; choose from "
                f"{', '.join(MEASURES)}"
            )
    sizes = SIZES[args.sizes] if args.sizes else default_sizes(accelerator)
    dataset = args.dataset
    try:
        split = types.standard_split(args)
    except (DatasetNotFoundError, DownloadError) as err:
        # speed does not depend on the values: measure on a file of the same shape
        print(
            f"cnforecast bench speed: {err}\nmeasuring on a synthetic {args.dataset} file of "
            "the real one's shape instead (timings do not depend on the values)",
            file=sys.stderr,
        )
        dataset = f"{args.dataset} (synthetic)"
        with tempfile.TemporaryDirectory(prefix="cnforecast-speed-data-") as folder:
            rows = get_dataset_info(args.dataset).n_rows or 20_000
            write_synthetic_dataset(args.dataset, folder, rows, seed=args.seed)
            split = load_standard_split(args.dataset, args.lookback, data=folder, verify=False)
    out = args.out / RECORDS_FILE
    print(
        f"cnforecast bench speed: {', '.join(measures)} on {accelerator} ({sizes.name} sizes), "
        f"{dataset} L={args.lookback} H={args.horizon}",
        flush=True,
    )

    def show(record: dict) -> None:
        write_record(out, record)
        status = record["status"]
        detail = record["error"] if status != "ok" else ""
        print(f"  {record['measure']}: {record.get('label') or ''} {status} {detail}", flush=True)

    records = measure_speed(
        split,
        args.horizon,
        accelerator=accelerator,
        sizes=sizes,
        measures=measures,
        threads=args.threads,
        seed=args.seed,
        dataset=dataset,
        on_record=show,
    )
    print()
    print(speed_table(records))
    print()
    print(f"device: {records[0]['device'] if records else 'n/a'}")
    print(f"records: {out}")
    return 1 if any(r["status"] == "failed" for r in records) else 0
