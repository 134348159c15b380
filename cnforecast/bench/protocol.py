"""The standard long-horizon protocol: train with early stopping, test every window.

What one run does (Informer / Autoformer / Time-Series-Library protocol):

1. The split comes from :func:`cnforecast.datasets.standard_split`: z-scored with the
   train rows' statistics; validation and test series start ``L`` rows before their border,
   so their first window's target starts exactly at the border.
2. The model trains on the train series, with the validation loss (``val_loss``, computed on
   every validation window) checked after every epoch; training stops after ``patience``
   epochs without improvement and, by default, the weights of the best epoch are restored.
3. Every test window at stride 1 is forecast: window ``i`` takes rows ``[i, i + L)`` of the
   scaled test series as input and rows ``[i + L, i + L + H)`` as targets. MSE and MAE are
   averaged over windows, steps and channels, on the scaled values. The number of windows
   is checked against ``split.n_windows(H)``.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from darts import TimeSeries
from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel
from pytorch_lightning import Callback, LightningModule, Trainer
from pytorch_lightning.callbacks import EarlyStopping

from cnforecast.bench.metrics import ErrorAccumulator

__all__ = [
    "EpochTimer",
    "Evaluation",
    "FitStats",
    "ForecastExamples",
    "SplitLike",
    "count_parameters",
    "count_windows",
    "describe_device",
    "evaluate",
    "fit",
    "peak_memory",
    "reset_peak_memory",
    "trainer_kwargs",
]

logger = logging.getLogger(__name__)

#: Upper bound on the forecast values held at once while evaluating (float32 elements,
#: about 256 MB); longer test sets are evaluated in chunks of windows.
MAX_EVAL_ELEMENTS = 64_000_000


class SplitLike(Protocol):
    """What the protocol needs from :class:`cnforecast.datasets.DatasetSplit`."""

    train: TimeSeries
    val: TimeSeries
    test: TimeSeries
    lookback: int

    def n_windows(self, horizon: int, part: str = "test") -> int: ...


def count_windows(series_length: int, lookback: int, horizon: int) -> int:
    """Windows of ``lookback`` inputs then ``horizon`` targets in a series, at stride 1.

    Examples
    --------
    >>> count_windows(2976, 96, 96)  # ETTh1 test part at L = H = 96
    2785
    """
    return max(0, series_length - lookback - horizon + 1)


def trainer_kwargs(
    *,
    accelerator: str = "auto",
    devices: int | str | Sequence[int] = 1,
    patience: int | None = 3,
    min_delta: float = 0.0,
    progress_bar: bool | None = None,
    limit_train_batches: int | None = None,
    callbacks: Sequence[Callback] = (),
) -> dict[str, Any]:
    """``pl_trainer_kwargs`` for a benchmark run.

    Parameters
    ----------
    accelerator, devices
        Lightning's device selection.
    patience
        Early stopping on ``val_loss`` after this many epochs without improvement;
        ``None`` disables early stopping.
    min_delta
        Smallest decrease of ``val_loss`` that counts as an improvement.
    progress_bar
        Show Lightning's progress bar; ``None``: only when stderr is a terminal.
    limit_train_batches
        At most this many (shuffled) training batches per epoch.
    callbacks
        More callbacks (e.g. :class:`EpochTimer`).
    """
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    cbs: list[Callback] = list(callbacks)
    if patience is not None:
        cbs.append(
            EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta, mode="min")
        )
    kwargs: dict[str, Any] = {
        "accelerator": accelerator,
        "devices": list(devices) if isinstance(devices, tuple) else devices,
        "enable_progress_bar": progress_bar,
        "enable_model_summary": False,
        "logger": False,
        "callbacks": cbs,
    }
    if limit_train_batches is not None:
        kwargs["limit_train_batches"] = int(limit_train_batches)
    return kwargs


class EpochTimer(Callback):
    """Times each training epoch, with and without its validation pass.

    Attributes
    ----------
    epoch_seconds
        Wall time of each epoch (training batches plus the validation pass).
    train_seconds
        Wall time of the training batches of each epoch.
    val_losses
        ``val_loss`` after each epoch.
    """

    def __init__(self) -> None:
        self.epoch_seconds: list[float] = []
        self.train_seconds: list[float] = []
        self.val_losses: list[float] = []
        self._start: float | None = None
        self._train_end: float | None = None

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._start = time.perf_counter()
        self._train_end = None

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking and self._start is not None and self._train_end is None:
            self._train_end = time.perf_counter()

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get("val_loss")
        if value is not None:
            self.val_losses.append(float(value))

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._start is None:
            return
        now = time.perf_counter()
        self.epoch_seconds.append(now - self._start)
        self.train_seconds.append((self._train_end or now) - self._start)
        self._start = None


def count_parameters(model: TorchForecastingModel) -> int:
    """Number of parameters of a fitted darts model's torch module (``model.model``)."""
    module = getattr(model, "model", None)
    if module is None:
        raise ValueError("the model has no torch module yet: fit it first")
    return int(sum(p.numel() for p in module.parameters()))


def uses_cuda(model: TorchForecastingModel) -> bool:
    trainer = getattr(model, "trainer", None)
    if trainer is not None:
        return trainer.strategy.root_device.type == "cuda"
    return torch.cuda.is_available()


def describe_device(model: TorchForecastingModel | None = None) -> str:
    """A short description of the device a model trained on (GPU name, or CPU and cores)."""
    cuda = uses_cuda(model) if model is not None else torch.cuda.is_available()
    if cuda:
        return f"cuda: {torch.cuda.get_device_name(torch.cuda.current_device())}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"cpu: {cpu}, {cores} cores, {torch.get_num_threads()} torch threads"


def reset_peak_memory() -> None:
    """Reset the GPU peak-memory counter (the CPU's peak RSS cannot be reset)."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory(cuda: bool) -> tuple[float, str]:
    """Peak memory in MiB and what it measures.

    On a GPU, ``torch.cuda.max_memory_allocated`` since :func:`reset_peak_memory`; on the
    CPU, the process's peak resident set size so far (``getrusage`` ``ru_maxrss``), which
    covers every run before this one in the same process too.
    """
    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20, "torch.cuda.max_memory_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    mib = rss / 2**20 if sys.platform == "darwin" else rss / 2**10
    return mib, "process peak RSS (ru_maxrss)"


@dataclass
class FitStats:
    """What training cost."""

    n_train_windows: int
    train_windows_per_epoch: int
    train_time_s: float
    epochs_run: int
    time_per_epoch_s: float
    train_windows_per_s: float
    best_val_loss: float | None
    val_losses: list[float] = field(default_factory=list)
    stopped_early: bool = False


def fit(
    model: TorchForecastingModel,
    split: SplitLike,
    *,
    timer: EpochTimer,
    restore_best: bool = True,
    max_train_windows: int | None = None,
) -> FitStats:
    """Train ``model`` on ``split.train`` with validation on ``split.val``.

    Parameters
    ----------
    model
        A darts torch model built with :func:`trainer_kwargs` (its callbacks include
        ``timer`` and, usually, early stopping).
    split
        The standard split.
    timer
        The :class:`EpochTimer` among the model's callbacks.
    restore_best
        Load the checkpoint of the best validation loss after training (needs the model
        built with ``save_checkpoints=True``).
    max_train_windows
        The limit on training windows per epoch the model's trainer was built with, for the
        statistics (the trainer enforces it through ``limit_train_batches``).
    """
    lookback, horizon = model.input_chunk_length, model.output_chunk_length
    n_train = count_windows(len(split.train), lookback, horizon)
    per_epoch = n_train if max_train_windows is None else min(n_train, max_train_windows)
    if max_train_windows is not None:  # whole batches, as limit_train_batches does
        per_epoch = min(n_train, math.ceil(per_epoch / model.batch_size) * model.batch_size)
    start = time.perf_counter()
    model.fit(split.train, val_series=split.val, load_best=restore_best, verbose=None)
    train_time = time.perf_counter() - start
    epochs = len(timer.epoch_seconds)
    stopper = (
        next((cb for cb in model.trainer.callbacks if isinstance(cb, EarlyStopping)), None)
        if model.trainer is not None
        else None
    )
    best = (
        float(stopper.best_score)
        if stopper is not None
        else (min(timer.val_losses) if timer.val_losses else None)
    )
    pure_train = sum(timer.train_seconds)
    return FitStats(
        n_train_windows=n_train,
        train_windows_per_epoch=per_epoch,
        train_time_s=train_time,
        epochs_run=epochs,
        time_per_epoch_s=(sum(timer.epoch_seconds) / epochs) if epochs else float("nan"),
        train_windows_per_s=(per_epoch * epochs / pure_train) if pure_train > 0 else float("nan"),
        best_val_loss=best if best is None or math.isfinite(best) else None,
        val_losses=list(timer.val_losses),
        stopped_early=bool(stopper is not None and stopper.stopped_epoch > 0),
    )


@dataclass
class ForecastExamples:
    """A few test windows of one channel, for plots (scaled values).

    Attributes
    ----------
    indices
        Window indices within the test set.
    component
        Name of the channel.
    inputs
        ``(k, L)`` input values.
    targets, predictions
        ``(k, H)`` true and forecast values.
    """

    indices: np.ndarray
    component: str
    inputs: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray

    def save(self, path: os.PathLike[str] | str) -> None:
        """Write to a ``.npz`` file."""
        np.savez_compressed(
            path,
            indices=self.indices,
            component=np.array(self.component),
            inputs=self.inputs,
            targets=self.targets,
            predictions=self.predictions,
        )

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> ForecastExamples:
        """Read a file written by :meth:`save`."""
        with np.load(path) as data:
            return cls(
                indices=data["indices"],
                component=str(data["component"]),
                inputs=data["inputs"],
                targets=data["targets"],
                predictions=data["predictions"],
            )


@dataclass
class Evaluation:
    """Test-set result of one run."""

    mse: float
    mae: float
    n_windows: int
    predict_time_s: float
    examples: ForecastExamples | None = None


def _example_indices(n_windows: int, k: int) -> np.ndarray:
    if k <= 0 or n_windows <= 0:
        return np.array([], dtype=int)
    return np.unique(np.linspace(0, n_windows - 1, num=min(k, n_windows)).round().astype(int))


def evaluate(
    model: TorchForecastingModel,
    series: TimeSeries,
    *,
    lookback: int,
    horizon: int,
    expected_windows: int | None = None,
    batch_size: int = 256,
    n_examples: int = 3,
    example_component: int | str = -1,
    max_elements: int = MAX_EVAL_ELEMENTS,
) -> Evaluation:
    """Forecast every window of ``series`` at stride 1 and score it.

    Window ``i`` has inputs ``series[i : i + lookback]`` and targets
    ``series[i + lookback : i + lookback + horizon]``. The forecasts come from darts'
    ``historical_forecasts(retrain=False, last_points_only=False)``, which batches the
    windows through the trained network (the same numbers as ``predict`` on each input
    window), in chunks of at most ``max_elements`` forecast values.

    Parameters
    ----------
    model
        A fitted darts model with ``input_chunk_length == lookback``.
    series
        The scaled test series: ``lookback`` rows before the test border, then the test rows.
    lookback, horizon
        L and H.
    expected_windows
        If given (``split.n_windows(H)``), the number of windows evaluated must equal it.
    batch_size
        Prediction batch size.
    n_examples
        How many windows (spread over the test set) to keep for plots.
    example_component
        Which channel to keep for plots (index or name; default: the last, ``OT`` in ETT).
    max_elements
        Chunk size bound, in forecast values.

    Returns
    -------
    Evaluation
        MSE, MAE (scaled space), the window count, prediction wall time and examples.
    """
    if model.input_chunk_length != lookback:
        raise ValueError(
            f"the model's input_chunk_length {model.input_chunk_length} is not L={lookback}"
        )
    n_windows = count_windows(len(series), lookback, horizon)
    if expected_windows is not None and n_windows != expected_windows:
        raise AssertionError(
            f"the test series gives {n_windows} windows, the split says {expected_windows}"
        )
    if n_windows == 0:
        raise ValueError(f"the test series ({len(series)} rows) is shorter than L + H")
    values = series.values(copy=False)
    n_channels = values.shape[1]
    comp_idx = (
        list(series.components).index(example_component)
        if isinstance(example_component, str)
        else example_component % n_channels
    )
    keep = _example_indices(n_windows, n_examples)
    kept_pred: dict[int, np.ndarray] = {}
    chunk = max(1, max_elements // (horizon * n_channels))
    acc = ErrorAccumulator()
    steps = np.arange(horizon)
    predict_time = 0.0
    for first in range(0, n_windows, chunk):
        last = min(n_windows, first + chunk)  # windows [first, last)
        part = series[first : last + lookback + horizon - 1]
        start = time.perf_counter()
        forecasts = model.historical_forecasts(
            part,
            forecast_horizon=horizon,
            stride=1,
            retrain=False,
            last_points_only=False,
            start=lookback,
            start_format="position",
            overlap_end=False,
            verbose=False,
            show_warnings=False,
            predict_kwargs={"batch_size": batch_size},
        )
        predict_time += time.perf_counter() - start
        if len(forecasts) != last - first:
            raise AssertionError(f"expected {last - first} forecasts, got {len(forecasts)}")
        if forecasts[0].start_time() != series.time_index[first + lookback]:
            raise AssertionError("historical forecasts are not aligned with the test windows")
        pred = np.stack([f.values(copy=False) for f in forecasts])  # (W, H, C)
        rows = (np.arange(first, last) + lookback)[:, None] + steps[None, :]  # (W, H)
        acc.update(values[rows], pred)
        for i in keep[(keep >= first) & (keep < last)]:
            kept_pred[int(i)] = pred[i - first, :, comp_idx]
    if acc.n_windows != n_windows:
        raise AssertionError(f"evaluated {acc.n_windows} windows instead of {n_windows}")
    examples = None
    if len(keep):
        examples = ForecastExamples(
            indices=keep,
            component=str(series.components[comp_idx]),
            inputs=np.stack([values[i : i + lookback, comp_idx] for i in keep]),
            targets=np.stack(
                [values[i + lookback : i + lookback + horizon, comp_idx] for i in keep]
            ),
            predictions=np.stack([kept_pred[int(i)] for i in keep]),
        )
    return Evaluation(
        mse=acc.mse,
        mae=acc.mae,
        n_windows=n_windows,
        predict_time_s=predict_time,
        examples=examples,
    )


def merge_trainer_kwargs(
    harness: Mapping[str, Any], user: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The harness's ``pl_trainer_kwargs`` updated by a model's own; callbacks are joined."""
    user = dict(user or {})
    merged = {**harness, **user}
    merged["callbacks"] = list(harness.get("callbacks", [])) + list(user.get("callbacks", []))
    return merged
