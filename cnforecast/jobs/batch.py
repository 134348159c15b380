"""Batch forecasting job: many input files in, one forecast file per input out.

``cnforecast forecast-batch`` reads every input file, groups their series into groups of
about ``series_per_call`` series, and forecasts each group with one ``predict`` call on a
list of series (not one call per series), ``batch_size`` series per forward pass. Each
``predict`` call costs a fixed overhead (a Lightning run), so the groups are large. Each
forecast file is written atomically. The job is resumable: outputs that already exist are
skipped (and counted), so a rerun after an interruption only does the rest. A bad input file
is reported in the summary (``_summary.json`` in the output folder) and does not stop the
others.

The job runs in this process, or with ``ray=ADDRESS`` on the workers of a Ray cluster
(:mod:`cnforecast.jobs.ray_backend`): the planning (which files to skip, which outputs
collide) and the summary stay here, the files are forecast by :func:`forecast_files` either
way. Interrupted (Ctrl-C, SIGTERM), the job still writes its summary, with ``interrupted``
set, before it stops; a rerun resumes.
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

from cnforecast.jobs.engines import Engine
from cnforecast.jobs.errors import JobError
from cnforecast.jobs.forecaster import DEFAULT_QUANTILES, Forecaster
from cnforecast.jobs.io import TABLE_FORMATS, atomic_write_text, write_table
from cnforecast.jobs.output_paths import check_writable, is_input, resolved_inputs
from cnforecast.jobs.predict import check_quantiles, open_model
from cnforecast.jobs.rollout import MAX_ROLLOUTS
from cnforecast.jobs.tabular import FillMethod, SeriesBundle

logger = logging.getLogger(__name__)

SUMMARY_FILE = "_summary.json"
#: Series per ``predict`` call by default: large, since each call has a fixed cost.
SERIES_PER_CALL = 4096


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
    backend: str = "local"
    interrupted: str | None = None

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
            "backend": self.backend,
            "interrupted": self.interrupted,
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


def output_path(source: Path, out_dir: Path, output_format: str) -> Path:
    """Where the forecast of ``source`` goes: ``out_dir/<input name>.<format>``."""
    return out_dir / f"{source.stem}.{output_format}"


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
    max_rollouts: int | None = MAX_ROLLOUTS,
    ray: str | None = None,
    ray_workers: int | None = None,
    series_per_call: int = SERIES_PER_CALL,
    engine: Engine = "auto",
) -> BatchSummary:
    """Forecast every series of every input file; write ``out_dir/<input name>.<format>``.

    Parameters
    ----------
    model_dir
        A model directory (or an already loaded one; with ``ray``, a directory).
    inputs
        A folder, a glob pattern (``"data/*.csv"``), a file, or a list of them.
    out_dir
        The output folder (created if needed).
    n
        Forecast horizon.
    batch_size
        Series per forward pass of the model.
    num_samples, quantiles, max_rollouts
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
    ray
        Run on Ray: ``"local"`` (a Ray instance on this machine), ``"auto"`` (the cluster
        this machine belongs to) or ``"ray://HEAD:10001"``; ``None`` runs in this process.
    ray_workers
        Ray workers to start (default: one per CPU of the cluster).
    series_per_call
        Files are grouped until a group holds this many series, forecast with one
        ``predict`` call (at least ``batch_size``).
    engine
        What predicts: by default the darts-free network where the model directory has one
        (same forecasts, faster start), else the darts model (see :meth:`Forecaster.load`).

    Returns
    -------
    BatchSummary
        What was written, skipped and failed (``summary.ok`` is false if any input failed).
    """
    started = time.perf_counter()
    if f".{output_format}" not in TABLE_FORMATS:
        raise JobError(f"output format must be csv or parquet, got {output_format!r}")
    if batch_size < 1 or series_per_call < 1:
        raise JobError(
            f"batch_size and series_per_call must be at least 1, got {batch_size} and "
            f"{series_per_call}"
        )
    files = list_inputs(inputs)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise JobError(f"output folder {str(out_dir)!r} exists and is not a folder")
    check_writable(out_dir / SUMMARY_FILE, "output folder")
    check_quantiles(quantiles)
    forecaster: Forecaster | None = None
    if ray is None:
        forecaster = open_model(model_dir, accelerator, quiet=True, engine=engine)
        forecaster.resolve_num_samples(num_samples)
        model_path = forecaster.path
    else:
        if isinstance(model_dir, Forecaster):
            raise JobError("--ray needs a model directory, not a model in memory")
        from cnforecast.jobs.manifest import read_manifest

        read_manifest(model_dir)  # a bad model directory fails here, not on every worker
        model_path = Path(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = BatchSummary(total=len(files), backend="ray" if ray is not None else "local")
    todo = _plan(files, out_dir, output_format, overwrite, summary, model_path)
    try:
        if forecaster is not None:
            forecast_files(
                forecaster,
                todo,
                out_dir,
                n,
                batch_size=batch_size,
                num_samples=num_samples,
                quantiles=quantiles,
                output_format=output_format,
                fill=fill,
                overwrite=overwrite,
                max_rollouts=max_rollouts,
                series_per_call=series_per_call,
                summary=summary,
                quiet=quiet,
            )
        elif todo:
            from cnforecast.jobs.ray_backend import BatchTask, forecast_batch_ray

            task = BatchTask(
                model_dir=str(Path(model_dir).resolve()),
                out_dir=str(out_dir.resolve()),
                n=n,
                batch_size=batch_size,
                num_samples=num_samples,
                quantiles=tuple(quantiles),
                output_format=output_format,
                fill=fill,
                overwrite=overwrite,
                accelerator=accelerator,
                max_rollouts=max_rollouts,
                series_per_call=series_per_call,
                engine=engine,
            )
            forecast_batch_ray(todo, task, summary, address=ray, num_workers=ray_workers)
    except JobError:  # e.g. Ray cannot be reached: nothing was done
        raise
    except BaseException as exc:  # interrupted (or a bug): the summary says what was done
        summary.interrupted = getattr(exc, "signal_name", None) or type(exc).__name__
        summary.seconds = time.perf_counter() - started
        _write_summary(summary, out_dir, model_path, files, n, batch_size)
        if isinstance(getattr(exc, "detail", None), str):
            exc.detail = (  # type: ignore[attr-defined]
                f"{len(summary.written) + len(summary.skipped)} of {summary.total} files done "
                f"({len(summary.written)} in this run), in {out_dir / SUMMARY_FILE}; rerun the "
                "same command to resume (finished files are skipped, nothing half-written was "
                "left)"
            )
        raise
    summary.seconds = time.perf_counter() - started
    _write_summary(summary, out_dir, model_path, files, n, batch_size)
    return summary


def _plan(
    files: Sequence[Path],
    out_dir: Path,
    output_format: str,
    overwrite: bool,
    summary: BatchSummary,
    model_path: Path | None,
) -> list[Path]:
    """The files to forecast; the others are recorded in ``summary`` (skipped or failed)."""
    inputs = resolved_inputs([*files, *([model_path] if model_path is not None else [])])
    claimed: dict[Path, Path] = {}
    todo: list[Path] = []
    for source in files:
        target = output_path(source, out_dir, output_format)
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
        if is_input(target, inputs):
            _fail(
                summary,
                source,
                JobError(
                    f"its output {str(target)!r} is an input of the job, which is never "
                    "overwritten; choose another --out"
                ),
            )
            continue
        if target.exists() and not overwrite:
            summary.skipped.append(str(source))
            continue
        todo.append(source)
    return todo


def _write_summary(
    summary: BatchSummary,
    out_dir: Path,
    model_path: Path | None,
    files: Sequence[Path],
    n: int,
    batch_size: int,
) -> None:
    record = {
        "model_dir": str(model_path),
        "inputs": [str(f) for f in files],
        "n": n,
        "batch_size": batch_size,
        **summary.to_dict(),
    }
    atomic_write_text(out_dir / SUMMARY_FILE, json.dumps(record, indent=2) + "\n", overwrite=True)


def forecast_files(
    forecaster: Forecaster,
    files: Sequence[Path],
    out_dir: Path,
    n: int,
    *,
    batch_size: int = 256,
    num_samples: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    output_format: str = "csv",
    fill: FillMethod | None = None,
    overwrite: bool = False,
    max_rollouts: int | None = MAX_ROLLOUTS,
    series_per_call: int = SERIES_PER_CALL,
    summary: BatchSummary | None = None,
    quiet: bool = True,
) -> BatchSummary:
    """Forecast ``files`` with one loaded model, in batched ``predict`` calls.

    Series of consecutive files are grouped until a group holds ``series_per_call`` series
    (``batch_size`` per forward pass); a
    group that fails is retried file by file, so only the bad file is lost. Each output is
    written atomically. The outcome is added to ``summary`` (a new one if ``None``), which
    is returned. This is the work of the one-process job and of every Ray worker.
    """
    summary = summary if summary is not None else BatchSummary(total=len(files))
    samples = forecaster.resolve_num_samples(num_samples)
    pending: list[_Pending] = []

    def flush() -> None:
        if not pending:
            return
        groups = [pending[:]]
        pending.clear()
        while groups:
            group = groups.pop()
            try:
                joined = SeriesBundle.concat([p.bundle for p in group])
                forecasts = forecaster.predict(joined, n, samples, batch_size, max_rollouts)
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
                    forecasts[offset : offset + count], item.bundle.ids, quantiles, item.bundle.tz
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
        try:
            bundle = forecaster.read(source, fill)
        except JobError as exc:
            _fail(summary, source, exc)
            continue
        pending.append(_Pending(source, output_path(source, out_dir, output_format), bundle))
        n_pending += len(bundle)
        if n_pending >= max(series_per_call, batch_size):
            flush()
            n_pending = 0
    flush()
    return summary


def _fail(summary: BatchSummary, source: Path, exc: BaseException) -> None:
    logger.info("%s failed: %s", source, exc)
    summary.failed.append({"file": str(source), "error": str(exc)})
