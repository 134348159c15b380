"""Benchmark figures (matplotlib, Agg backend): forecasts, MSE per model, MSE vs size, ablation.

Every function takes the run records (and, for the forecast plots, the folder the records
live in) and returns the paths of the PNG files it wrote; a figure without data is not
drawn. All values are on the scaled (train z-score) scale of the metrics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cnforecast.bench.records import iter_ok, latest_records
from cnforecast.bench.report import aggregate
from cnforecast.engine.evaluation import ForecastExamples

__all__ = [
    "PLOTS_DIR",
    "make_plots",
    "motif_subset",
    "plot_accuracy_vs_params",
    "plot_forecasts",
    "plot_motif_ablation",
    "plot_mse_bars",
]

logger = logging.getLogger(__name__)

#: Folder of the figures in the output folder.
PLOTS_DIR = "plots"
_ALL_MOTIFS = ("linear", "attention", "product")


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    logger.info("wrote %s", path)
    return path


def _grid(keys: Sequence[tuple[str, int]], width: float = 4.2, height: float = 3.2):
    datasets = sorted({d for d, _ in keys})
    horizons = sorted({h for _, h in keys})
    fig, axes = plt.subplots(
        len(datasets),
        len(horizons),
        squeeze=False,
        layout="constrained",
        figsize=(width * len(horizons), height * len(datasets)),
    )
    cells = {(d, h): axes[i][j] for i, d in enumerate(datasets) for j, h in enumerate(horizons)}
    for key, ax in cells.items():
        if key not in keys:
            ax.set_visible(False)
    return fig, cells


def plot_forecasts(
    records: Iterable[Mapping[str, Any]], records_dir: str | Path, out_dir: str | Path
) -> list[Path]:
    """Forecast vs truth on a few test windows, all models overlaid, one file per (data set, H).

    Uses the example windows saved with each run (``forecast_file``, relative to
    ``records_dir``); per model the run with the smallest seed is shown.
    """
    records_dir, out_dir = Path(records_dir), Path(out_dir)
    chosen: dict[tuple[str, int, int], dict[str, Mapping[str, Any]]] = {}
    for r in sorted(iter_ok(latest_records(records)), key=lambda r: r["seed"]):
        if not r.get("forecast_file"):
            continue
        per_model = chosen.setdefault((r["dataset"], r["lookback"], r["horizon"]), {})
        per_model.setdefault(r["label"], r)
    written = []
    for (dataset, lookback, horizon), per_model in chosen.items():
        examples = {}
        for label, r in per_model.items():
            path = records_dir / r["forecast_file"]
            if path.is_file():
                examples[label] = ForecastExamples.load(path)
            else:
                logger.warning("forecast file %s is missing; %s left out of the plot", path, label)
        if not examples:
            continue
        first = next(iter(examples.values()))
        k = len(first.indices)
        fig, axes = plt.subplots(k, 1, squeeze=False, figsize=(10, 2.6 * k), layout="constrained")
        t_in = np.arange(-lookback, 0)
        t_out = np.arange(horizon)
        for row, ax in enumerate(axes[:, 0]):
            ax.plot(t_in, first.inputs[row], color="0.6", lw=1, label="input")
            ax.plot(t_out, first.targets[row], color="black", lw=1.4, label="truth")
            for label, ex in examples.items():
                if row < len(ex.indices) and ex.indices[row] == first.indices[row]:
                    ax.plot(t_out, ex.predictions[row], lw=1.1, label=label)
            ax.axvline(0, color="0.8", lw=0.8)
            ax.set_title(
                f"{dataset}, {first.component}, test window {first.indices[row]}", fontsize=9
            )
            ax.set_ylabel("scaled value")
        axes[-1, 0].set_xlabel("step (0 = first forecast step)")
        axes[0, 0].legend(loc="upper left", fontsize=8, ncol=min(6, len(examples) + 2))
        name = f"forecasts_{dataset}_L{lookback}_H{horizon}.png"
        written.append(_save(fig, out_dir / name))
    return written


def plot_mse_bars(records: Iterable[Mapping[str, Any]], out_dir: str | Path) -> list[Path]:
    """Test MSE per model (mean ± std over seeds), one panel per data set and horizon."""
    rows = [r for r in aggregate(records) if r.mse_mean is not None]
    if not rows:
        return []
    keys = sorted({(r.dataset, r.horizon) for r in rows})
    fig, cells = _grid(keys)
    for (dataset, horizon), ax in cells.items():
        panel = [r for r in rows if (r.dataset, r.horizon) == (dataset, horizon)]
        if not panel:
            continue
        x = np.arange(len(panel))
        ax.bar(
            x,
            [r.mse_mean for r in panel],
            yerr=[r.mse_std or 0.0 for r in panel],
            color=[f"C{i % 10}" for i in range(len(panel))],
            capsize=3,
        )
        ax.set_xticks(x, [r.label for r in panel], rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{dataset}, H={horizon}", fontsize=10)
        ax.set_ylabel("test MSE (scaled)")
    return [_save(fig, Path(out_dir) / "mse_by_model.png")]


def plot_accuracy_vs_params(
    records: Iterable[Mapping[str, Any]], out_dir: str | Path
) -> list[Path]:
    """Test MSE against the number of parameters (log x), one panel per data set and horizon."""
    rows = [r for r in aggregate(records) if r.mse_mean is not None and r.n_params]
    if not rows:
        return []
    keys = sorted({(r.dataset, r.horizon) for r in rows})
    fig, cells = _grid(keys)
    labels = sorted({r.label for r in rows})
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    for (dataset, horizon), ax in cells.items():
        panel = [r for r in rows if (r.dataset, r.horizon) == (dataset, horizon)]
        for r in panel:
            ax.errorbar(
                r.n_params,
                r.mse_mean,
                yerr=r.mse_std or 0.0,
                fmt="o",
                color=colours[r.label],
                capsize=3,
            )
            ax.annotate(
                r.label,
                (r.n_params, r.mse_mean),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_ylabel("test MSE (scaled)")
        ax.set_title(f"{dataset}, H={horizon}", fontsize=10)
    return [_save(fig, Path(out_dir) / "mse_vs_params.png")]


def motif_subset(record: Mapping[str, Any]) -> str | None:
    """The CircuitNet motif subset of a record, e.g. ``"linear+product"``; ``None`` otherwise.

    Taken from the label (``circuitnet[linear+product]``), else from the ``motifs``
    argument, else all three motifs (the model's default).

    Examples
    --------
    >>> motif_subset({"model": "circuitnet", "label": "circuitnet[product+linear]"})
    'linear+product'
    >>> motif_subset({"model": "dlinear", "label": "dlinear"}) is None
    True
    """
    if record.get("model") != "circuitnet":
        return None
    match = re.search(r"\[([^\]]+)\]", str(record.get("label", "")))
    if match:
        parts = [p.strip() for p in re.split(r"[+,]", match.group(1)) if p.strip()]
    else:
        motifs = (record.get("model_kwargs") or {}).get("motifs") or _ALL_MOTIFS
        parts = [motifs] if isinstance(motifs, str) else list(motifs)
    order = {m: i for i, m in enumerate(_ALL_MOTIFS)}
    return "+".join(sorted(set(parts), key=lambda m: (order.get(m, len(order)), m)))


def plot_motif_ablation(records: Iterable[Mapping[str, Any]], out_dir: str | Path) -> list[Path]:
    """Test MSE of CircuitNet per motif subset (needs at least two subsets on a panel)."""
    latest = latest_records(records)
    subset_of = {r["label"]: motif_subset(r) for r in latest}
    rows = [
        r
        for r in aggregate(latest)
        if r.mse_mean is not None and subset_of.get(r.label) is not None
    ]
    keys = sorted(
        {
            (r.dataset, r.horizon)
            for r in rows
            if sum((q.dataset, q.horizon) == (r.dataset, r.horizon) for q in rows) > 1
        }
    )
    if not keys:
        return []
    fig, cells = _grid(keys, width=5.0)
    for (dataset, horizon), ax in cells.items():
        panel = [r for r in rows if (r.dataset, r.horizon) == (dataset, horizon)]
        if not panel:
            continue
        order = {m: i for i, m in enumerate(_ALL_MOTIFS)}
        panel.sort(
            key=lambda r: (
                [len(subset_of[r.label].split("+"))]
                + [order.get(m, len(order)) for m in subset_of[r.label].split("+")]
            )
        )
        x = np.arange(len(panel))
        # points with error bars, not bars: the differences are small, so the axis is zoomed
        for i, r in enumerate(panel):
            ax.errorbar(
                i,
                r.mse_mean,
                yerr=r.mse_std or 0.0,
                fmt="o",
                capsize=4,
                color=f"C{subset_of[r.label].count('+')}",
            )
        ax.set_xticks(x, [subset_of[r.label] for r in panel], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.5, len(panel) - 0.5)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(f"CircuitNet motifs: {dataset}, H={horizon}", fontsize=10)
        ax.set_ylabel("test MSE (scaled)")
    return [_save(fig, Path(out_dir) / "ablation_motifs.png")]


def make_plots(
    records: Iterable[Mapping[str, Any]], records_dir: str | Path, out_dir: str | Path
) -> list[Path]:
    """Every figure that the records allow, written to ``out_dir``; returns their paths."""
    records = list(records)
    written: list[Path] = []
    written += plot_mse_bars(records, out_dir)
    written += plot_accuracy_vs_params(records, out_dir)
    written += plot_motif_ablation(records, out_dir)
    written += plot_forecasts(records, records_dir, out_dir)
    return written
