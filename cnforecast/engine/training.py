"""Training: the Lightning settings built once, an epoch timer, fit with statistics.

Every path that trains a model (``cnforecast bench``, ``cnforecast bench throughput``,
``cnforecast fit``) builds its ``pl_trainer_kwargs`` with :func:`trainer_kwargs`, trains with
:func:`fit` and reads what training cost from the returned :class:`FitStats`. The engine works
on any darts torch model and imports no model of cnforecast.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from darts import TimeSeries
from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel
from pytorch_lightning import Callback, LightningModule, Trainer
from pytorch_lightning.callbacks import EarlyStopping

from cnforecast.engine.evaluation import count_windows

__all__ = [
    "EpochTimer",
    "FitStats",
    "count_parameters",
    "fit",
    "merge_trainer_kwargs",
    "trainer_kwargs",
]

logger = logging.getLogger(__name__)

Devices = int | str | Sequence[int]


def trainer_kwargs(
    *,
    accelerator: str = "auto",
    devices: Devices = 1,
    strategy: str | None = None,
    num_nodes: int | None = None,
    precision: str | None = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    progress_bar: bool | None = None,
    model_summary: bool = False,
    checkpointing: bool | None = None,
    limit_train_batches: int | None = None,
    callbacks: Sequence[Callback] = (),
) -> dict[str, Any]:
    """``pl_trainer_kwargs`` of a run: no logger, optional early stopping, given callbacks.

    Parameters
    ----------
    accelerator, devices, strategy, num_nodes, precision
        Lightning's device selection (``None``: Lightning's default, the key is left out).
    patience
        Early stopping on ``val_loss`` after this many epochs without improvement;
        ``None`` disables early stopping.
    min_delta
        Smallest decrease of ``val_loss`` that counts as an improvement.
    progress_bar
        Show Lightning's progress bar; ``None``: only when stderr is a terminal.
    model_summary
        Print Lightning's model summary when training starts.
    checkpointing
        ``False`` switches Lightning's own checkpoints off; ``None`` leaves the key out
        (darts adds its checkpoint callback when the model has ``save_checkpoints=True``).
    limit_train_batches
        At most this many (shuffled) training batches per epoch.
    callbacks
        Callbacks, in order (e.g. :class:`EpochTimer`); the early stopper comes last.

    Examples
    --------
    >>> kw = trainer_kwargs(accelerator="cpu", patience=3, progress_bar=False)
    >>> kw["accelerator"], kw["logger"], [type(cb).__name__ for cb in kw["callbacks"]]
    ('cpu', False, ['EarlyStopping'])
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
        "enable_model_summary": model_summary,
        "logger": False,
        "callbacks": cbs,
    }
    optional = {
        "strategy": strategy,
        "num_nodes": num_nodes,
        "precision": precision,
        "enable_checkpointing": checkpointing,
        "limit_train_batches": None if limit_train_batches is None else int(limit_train_batches),
    }
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    return kwargs


def merge_trainer_kwargs(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Trainer settings merged left to right (later wins); the callbacks of all are joined.

    Examples
    --------
    >>> merged = merge_trainer_kwargs({"logger": False, "callbacks": [1]}, {"callbacks": [2]})
    >>> merged
    {'logger': False, 'callbacks': [1, 2]}
    """
    merged: dict[str, Any] = {}
    callbacks: list[Any] = []
    for layer in layers:
        layer = dict(layer or {})
        callbacks += list(layer.pop("callbacks", []) or [])
        merged.update(layer)
    merged["callbacks"] = callbacks
    return merged


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


def _callback(model: TorchForecastingModel, kind: type[Callback]) -> Any:
    trainer = getattr(model, "trainer", None)
    if trainer is None:
        return None
    return next((cb for cb in trainer.callbacks if isinstance(cb, kind)), None)


def _as_list(series: TimeSeries | Sequence[TimeSeries]) -> list[TimeSeries]:
    return [series] if isinstance(series, TimeSeries) else list(series)


def fit(
    model: TorchForecastingModel,
    series: TimeSeries | Sequence[TimeSeries],
    val_series: TimeSeries | Sequence[TimeSeries] | None = None,
    *,
    past_covariates: Any = None,
    future_covariates: Any = None,
    load_best: bool = False,
    max_train_windows: int | None = None,
) -> FitStats:
    """Train ``model`` on ``series`` (validation on ``val_series``) and measure what it cost.

    Parameters
    ----------
    model
        A darts torch model whose ``pl_trainer_kwargs`` come from :func:`trainer_kwargs`;
        with an :class:`EpochTimer` among its callbacks the epochs are timed.
    series, val_series
        Training and validation series (one or a list).
    past_covariates, future_covariates
        Covariates of the series; the validation series use the same ones.
    load_best
        Load the checkpoint of the best validation loss after training (needs the model
        built with ``save_checkpoints=True``).
    max_train_windows
        The limit on training windows per epoch the model's trainer was built with, for the
        statistics (the trainer enforces it through ``limit_train_batches``).

    Raises
    ------
    ValueError
        What darts raises for unusable inputs.
    """
    lookback, horizon = model.input_chunk_length, model.output_chunk_length
    n_train = sum(count_windows(len(s), lookback, horizon) for s in _as_list(series))
    per_epoch = n_train if max_train_windows is None else min(n_train, max_train_windows)
    if max_train_windows is not None:  # whole batches, as limit_train_batches does
        per_epoch = min(n_train, math.ceil(per_epoch / model.batch_size) * model.batch_size)
    has_val = val_series is not None
    start = time.perf_counter()
    model.fit(
        series,
        past_covariates=past_covariates,
        future_covariates=future_covariates,
        val_series=val_series,
        val_past_covariates=past_covariates if has_val else None,
        val_future_covariates=future_covariates if has_val else None,
        load_best=load_best,
        verbose=None,
    )
    train_time = time.perf_counter() - start
    timer = _callback(model, EpochTimer) or EpochTimer()
    stopper = _callback(model, EarlyStopping)
    epochs = len(timer.epoch_seconds)
    best = (
        float(stopper.best_score)
        if stopper is not None
        else (min(timer.val_losses) if timer.val_losses else None)
    )
    pure_train = sum(timer.train_seconds)
    stats = FitStats(
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
    logger.info("trained %d epoch(s) in %.1f s", stats.epochs_run, stats.train_time_s)
    return stats
