"""Batch forecasting job: many input files in, one forecast file per input out.

``cnforecast forecast-batch`` reads every input file, groups their series into batches of
about ``batch_size`` series, and forecasts each batch with one ``predict`` call on a list of
series (not one call per series). Each forecast file is written atomically. The job is
resumable: outputs that already exist are skipped (and counted), so a rerun after an
interruption only does the rest. A bad input file is reported in the summary
(``_summary.json`` in the output folder) and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from cnforecast.jobs.errors import JobError
from cnforecast.jobs.forecaster import DEFAULT_QUANTILES, Forecaster
from cnforecast.jobs.io import TABLE_FORMATS, atomic_write_text, write_table
from cnforecast.jobs.predict import check_quantiles, open_model
from cnforecast.jobs.tabular import FillMethod, SeriesBundle

logger = logging.getLogger(__name__)

SUMMARY_FILE = "_summary.json"


@dataclass
class BatchSummary:
    """The outcome of a batch job (also written to ``_summary.json``)."""

    total: int = 0
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    n_series: int = 0
    n_predict_calls: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "total": self.total,
            "n_written": len(self.written),
            "n_skipped": len(self.skipped),
            "n_failed": len(self.failed),
            "n_series": self.n_series,
            "n_predict_calls": self.n_predict_calls,
            "seconds": round(self.seconds, 3),
            "failed": self.failed,
            "written": self.written,
            "skipped": self.skipped,
        }


def list_inputs(inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The input files: a folder (its CSV/Parquet files), a glob pattern, a file, or a list."""
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TABLE_FORMATS
            )
        elif path.is_file():
            found.append(path)
        else:
            found += sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
    if not found:
        raise JobError(f"no input files found for {[str(i) for i in inputs]}")
    return found


@dataclass
class _Pending:
    source: Path
    out: Path
    bundle: SeriesBundle


def forecast_batch_job(
    model_dir: str | os.PathLike[str] | Forecaster,
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    n: int,
    batch_size: int = 256,
    num_samples: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    output_format: str = "csv",
    fill: FillMethod | None = None,
    overwrite: bool = False,
    accelerator: str = "auto",
    quiet: bool = False,
) -> BatchSummary:
    """Forecast every series of every input file; write ``out_dir/<input name>.<format>``.

    Parameters
    ----------
    model_dir
        A model directory (or an already loaded one).
    inputs
        A folder, a glob pattern (``"data/*.csv"``), a file, or a list of them.
    out_dir
        The output folder (created if needed).
    n
        Forecast horizon.
    batch_size
        Series per ``predict`` call (files are grouped until a batch has this many).
    num_samples, quantiles
        As for :func:`~cnforecast.jobs.predict.predict_job`.
    output_format
        ``"csv"`` or ``"parquet"``.
    fill
        Missing-value handling (default: the one the model was trained with).
    overwrite
        Recompute outputs that exist instead of skipping them.
    accelerator
        Lightning accelerator for prediction.
    quiet
        No progress bar.

    Returns
    -------
    BatchSummary
        What was written, skipped and failed (``summary.ok`` is false if any input failed).
    """
    started = time.perf_counter()
    if f".{output_format}" not in TABLE_FORMATS:
        raise JobError(f"output format must be csv or parquet, got {output_format!r}")
    if batch_size < 1:
        raise JobError(f"batch_size must be at least 1, got {batch_size}")
    files = list_inputs(inputs)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise JobError(f"output folder {str(out_dir)!r} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    check_quantiles(quantiles)
    forecaster = open_model(model_dir, accelerator, quiet=True)
    samples = forecaster.resolve_num_samples(num_samples)
    summary = BatchSummary(total=len(files))
    pending: list[_Pending] = []
    claimed: dict[Path, Path] = {}

    def flush() -> None:
        if not pending:
            return
        groups = [pending[:]]
        pending.clear()
        while groups:
            group = groups.pop()
            try:
                joined = SeriesBundle.concat([p.bundle for p in group])
                forecasts = forecaster.predict(joined, n, samples, batch_size)
                summary.n_predict_calls += 1
            except (JobError, ValueError, RuntimeError) as exc:
                if len(group) == 1:
                    _fail(summary, group[0].source, exc)
                else:  # isolate the file(s) that break the batch
                    groups += [[p] for p in group]
                continue
            offset = 0
            for item in group:
                count = len(item.bundle)
                frame = forecaster.to_frame(
                    forecasts[offset : offset + count], item.bundle.ids, quantiles
                )
                offset += count
                try:
                    write_table(frame, item.out, overwrite=overwrite)
                except (OSError, JobError) as exc:
                    _fail(summary, item.source, exc)
                    continue
                summary.written.append(str(item.out))
                summary.n_series += count

    n_pending = 0
    for source in tqdm(files, desc="forecasting", unit="file", disable=quiet):
        target = out_dir / f"{source.stem}.{output_format}"
        if target in claimed:
            _fail(
                summary,
                source,
                JobError(
                    f"its output {target.name} would collide with that of {claimed[target].name}"
                ),
            )
            continue
        claimed[target] = source
        if target.exists() and not overwrite:
            summary.skipped.append(str(source))
            continue
        try:
            bundle = forecaster.read(source, fill)
        except JobError as exc:
            _fail(summary, source, exc)
            continue
        pending.append(_Pending(source, target, bundle))
        n_pending += len(bundle)
        if n_pending >= batch_size:
            flush()
            n_pending = 0
    flush()
    summary.seconds = time.perf_counter() - started
    record = {
        "model_dir": str(forecaster.path),
        "inputs": [str(f) for f in files],
        "n": n,
        "batch_size": batch_size,
        **summary.to_dict(),
    }
    atomic_write_text(out_dir / SUMMARY_FILE, json.dumps(record, indent=2) + "\n", overwrite=True)
    return summary


def _fail(summary: BatchSummary, source: Path, exc: BaseException) -> None:
    logger.info("%s failed: %s", source, exc)
    summary.failed.append({"file": str(source), "error": str(exc)})
