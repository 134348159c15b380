"""Benchmark records -> Markdown: mean ± std over seeds per model, data set and horizon."""

from __future__ import annotations

import datetime as _dt
import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnforecast.bench.records import METRIC_SCALE, latest_records

__all__ = [
    "REPORT_FILE",
    "ResultRow",
    "aggregate",
    "markdown_report",
    "markdown_table",
    "write_report",
]

logger = logging.getLogger(__name__)

#: File name of the report in the output folder.
REPORT_FILE = "report.md"


@dataclass(frozen=True)
class ResultRow:
    """One line of the table: a model variant on a data set, L and H, over its seeds."""

    dataset: str
    lookback: int
    horizon: int
    label: str
    n_ok: int
    n_runs: int
    mse_mean: float | None
    mse_std: float | None
    mae_mean: float | None
    mae_std: float | None
    n_params: int | None
    time_per_epoch_s: float | None
    epochs: float | None
    statuses: tuple[str, ...]


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    std = statistics.stdev(values) if len(values) > 1 else None
    return statistics.fmean(values), std


def aggregate(records: Iterable[Mapping[str, Any]]) -> list[ResultRow]:
    """Group records by (data set, L, H, label); the latest record of each run counts.

    The standard deviation is the sample one (``n - 1``) over the seeds that finished;
    ``None`` with fewer than two.
    """
    groups: dict[tuple[str, int, int, str], list[Mapping[str, Any]]] = {}
    for record in latest_records(records):
        key = (record["dataset"], record["lookback"], record["horizon"], record["label"])
        groups.setdefault(key, []).append(record)
    rows = []
    for (dataset, lookback, horizon, label), group in groups.items():
        ok = [r for r in group if r["status"] == "ok"]
        mse_mean, mse_std = _mean_std([r["mse"] for r in ok])
        mae_mean, mae_std = _mean_std([r["mae"] for r in ok])
        params = [r["n_params"] for r in ok if r.get("n_params") is not None]
        epoch_t = [r["time_per_epoch_s"] for r in ok if r.get("time_per_epoch_s") is not None]
        epochs = [r["epochs_run"] for r in ok if r.get("epochs_run") is not None]
        rows.append(
            ResultRow(
                dataset=dataset,
                lookback=lookback,
                horizon=horizon,
                label=label,
                n_ok=len(ok),
                n_runs=len(group),
                mse_mean=mse_mean,
                mse_std=mse_std,
                mae_mean=mae_mean,
                mae_std=mae_std,
                n_params=max(params) if params else None,
                time_per_epoch_s=statistics.fmean(epoch_t) if epoch_t else None,
                epochs=statistics.fmean(epochs) if epochs else None,
                statuses=tuple(sorted({r["status"] for r in group})),
            )
        )
    rows.sort(key=lambda r: (r.dataset, r.lookback, r.horizon))  # stable: run order within
    return rows


def _fmt(mean: float | None, std: float | None, bold: bool = False) -> str:
    if mean is None:
        return "–"
    text = f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"
    return f"**{text}**" if bold else text


def _fmt_params(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def markdown_table(records: Iterable[Mapping[str, Any]]) -> str:
    """The results table; the lowest MSE and MAE of each data set and horizon in bold.

    Examples
    --------
    >>> rec = dict(dataset="ETTh1", lookback=96, horizon=96, label="dlinear", seed=0,
    ...            status="ok", mse=0.38, mae=0.40, n_params=18624, time_per_epoch_s=2.0,
    ...            epochs_run=5)
    >>> print(markdown_table([rec, {**rec, "seed": 1, "mse": 0.40, "mae": 0.41}]))
    | data set | L | H | model | MSE | MAE | seeds | params | s / epoch | epochs |
    |---|---|---|---|---|---|---|---|---|---|
    | ETTh1 | 96 | 96 | dlinear | **0.390 ± 0.014** | **0.405 ± 0.007** | 2 | 18.6k | 2.0 | 5.0 |
    """
    rows = aggregate(records)
    best: dict[tuple[str, int, int], tuple[float, float]] = {}
    for row in rows:
        if row.mse_mean is None:
            continue
        key = (row.dataset, row.lookback, row.horizon)
        mse_b, mae_b = best.get(key, (float("inf"), float("inf")))
        best[key] = (min(mse_b, row.mse_mean), min(mae_b, row.mae_mean))
    lines = [
        "| data set | L | H | model | MSE | MAE | seeds | params | s / epoch | epochs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        mse_b, mae_b = best.get((row.dataset, row.lookback, row.horizon), (None, None))
        seeds = f"{row.n_ok}" if row.n_ok == row.n_runs else f"{row.n_ok}/{row.n_runs}"
        if row.n_ok == 0:
            seeds = "/".join(row.statuses)
        lines.append(
            f"| {row.dataset} | {row.lookback} | {row.horizon} | {row.label} "
            f"| {_fmt(row.mse_mean, row.mse_std, row.mse_mean == mse_b)} "
            f"| {_fmt(row.mae_mean, row.mae_std, row.mae_mean == mae_b)} "
            f"| {seeds} | {_fmt_params(row.n_params)} "
            f"| {'–' if row.time_per_epoch_s is None else f'{row.time_per_epoch_s:.1f}'} "
            f"| {'–' if row.epochs is None else f'{row.epochs:.1f}'} |"
        )
    return "\n".join(lines)


def _problems(records: Sequence[Mapping[str, Any]]) -> str:
    bad = [r for r in records if r["status"] != "ok"]
    if not bad:
        return ""
    lines = ["## Runs that did not finish", "", "| run | status | reason |", "|---|---|---|"]
    for r in bad:
        reason = str(r.get("error") or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['run_id']} | {r['status']} | {reason} |")
    return "\n".join(lines) + "\n"


def _provenance(records: Sequence[Mapping[str, Any]]) -> str:
    def values(field: str) -> str:
        found = sorted({str(r.get(field)) for r in records if r.get(field) is not None})
        return ", ".join(found) if found else "unknown"

    versions = next((r["versions"] for r in records if r.get("versions")), {}) or {}
    pkg = ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    dirty = any(r.get("git_dirty") for r in records)
    return "\n".join(
        [
            f"- Metric scale: {METRIC_SCALE}; every test window at stride 1, averaged over "
            "windows, steps and channels.",
            f"- Test windows: {values('n_test_windows')}",
            f"- Device: {values('device')}",
            f"- Peak memory measured as: {values('peak_memory_kind')}",
            f"- Git commit: {values('git_commit')}"
            + (" (with uncommitted changes)" if dirty else ""),
            f"- Packages: {pkg or 'unknown'}",
        ]
    )


def markdown_report(records: Iterable[Mapping[str, Any]], *, title: str = "Benchmark") -> str:
    """The full report: table, provenance, runs that did not finish, plots."""
    records = latest_records(records)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"# {title}",
        "",
        f"Generated {now} from {len(records)} run record(s). MSE and MAE: mean ± sample "
        "standard deviation over seeds; bold: best of each data set and horizon.",
        "",
        markdown_table(records),
        "",
        "## Provenance",
        "",
        _provenance(records),
        "",
        _problems(records),
    ]
    return "\n".join(parts).rstrip() + "\n"


def write_report(
    records: Iterable[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    title: str = "Benchmark",
    plots: Sequence[Path] = (),
) -> Path:
    """Write ``<out_dir>/report.md`` (with links to ``plots``, given relative to it)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown_report(records, title=title)
    if plots:
        links = []
        for p in plots:
            try:
                rel = Path(p).resolve().relative_to(out.resolve())
            except ValueError:
                rel = Path(p)
            links.append(f"![{rel.stem}]({rel.as_posix()})")
        text += "\n## Plots\n\n" + "\n\n".join(links) + "\n"
    path = out / REPORT_FILE
    path.write_text(text, encoding="utf-8")
    logger.info("wrote %s", path)
    return path
