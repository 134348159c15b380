"""Side-by-side training throughput: windows per second, every model on the same windows.

What one measurement does, for each model in turn:

1. The model is built from the registry with its literature defaults (overridable), the
   same ``batch_size`` for every model (the registry's batch sizes differ: a model's
   throughput depends on it, so the comparison overrides them and records the registry's
   value next to the one used), ``n_epochs=epochs`` and ``random_state=seed``.
2. It trains on exactly the first ``n_windows`` stride-1 windows of ``split.train``: the
   train series is cut to ``lookback + horizon + n_windows - 1`` rows, so darts draws
   exactly ``n_windows`` windows from it. No validation, no early stopping, no
   checkpoints, no progress bar. A callback counts the windows of every training batch and
   the run fails unless each epoch saw exactly ``n_windows`` of them.
3. Each epoch is timed by :class:`~cnforecast.engine.training.EpochTimer`. With two or more
   epochs the first is discarded as warm-up; ``windows_per_second`` is ``n_windows``
   divided by the median time of the remaining epochs.

This is **training** throughput only (data loading, forward, loss, backward and optimizer
step), not prediction speed. Every record states it in its ``note`` field. Timings depend
on the machine and its load: compare models measured in the same call, on the same device
(each record has ``device`` and ``threads``), through ``ratio_to_reference``.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from darts import TimeSeries
from pytorch_lightning import Callback, LightningModule, Trainer

from cnforecast.bench.config import DEFAULT_REFERENCE, PRESETS, ModelConfig
from cnforecast.bench.records import WHERE_FIELDS, fill_record
from cnforecast.engine import devices, training
from cnforecast.engine.evaluation import SplitLike, count_windows
from cnforecast.engine.grid import run_grid
from cnforecast.errors import ConfigError
from cnforecast.models.registry import ModelSpec, get_model_spec

__all__ = [
    "DEFAULT_REFERENCE",
    "NOTE",
    "SCHEMA",
    "THROUGHPUT_FIELDS",
    "ModelEntry",
    "measure_throughput",
    "throughput_table",
]

logger = logging.getLogger(__name__)

#: Identifies the layout of a throughput record; bump when fields change meaning.
SCHEMA = "cnforecast.bench.throughput/1"
#: Stated in every record.
NOTE = (
    "training throughput only (forward + backward + optimizer step, data loading included), "
    "not prediction; same windows and batch size for every model (registry batch sizes "
    "overridden), no validation"
)

#: The fields of every throughput record, in the order they are written.
THROUGHPUT_FIELDS: tuple[str, ...] = (
    "schema",
    "status",
    "error",
    "started_at",
    # what ran
    "label",
    "model",
    "model_kwargs",
    "dataset",
    "lookback",
    "horizon",
    "seed",
    # what was measured
    "n_params",
    "n_windows",
    "batch_size",
    "registry_batch_size",
    "batches_per_epoch",
    "windows_seen_per_epoch",
    "epochs",
    "warmup_epochs",
    "seconds_per_epoch",
    "median_seconds_per_epoch",
    "windows_per_second",
    "reference",
    "ratio_to_reference",
    # where
    *WHERE_FIELDS,
)

#: A model to measure: a registry name, or ``(label, registry name, kwargs)``.
ModelEntry = str | tuple[str, str, Mapping[str, Any]]


class _WindowCounter(Callback):
    """Counts the windows of every training batch, per epoch.

    On a GPU it also waits for the device at each epoch's start and end, so that
    :class:`~cnforecast.engine.training.EpochTimer` (placed after it among the callbacks)
    times finished work rather than queued kernels.
    """

    def __init__(self) -> None:
        self.windows_per_epoch: list[int] = []
        self.batches_per_epoch: list[int] = []

    @staticmethod
    def _sync(pl_module: LightningModule) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._sync(pl_module)
        self.windows_per_epoch.append(0)
        self.batches_per_epoch.append(0)

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        # darts 0.48 trains on ``TorchTrainingBatch``es; past_target is (B, L, C)
        past_target = getattr(batch, "past_target", None)
        if past_target is None:  # older darts: a tuple whose first item is the past target
            past_target = batch[0]
        self.windows_per_epoch[-1] += int(past_target.shape[0])
        self.batches_per_epoch[-1] += 1

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._sync(pl_module)


@dataclass(frozen=True)
class _Planned:
    config: ModelConfig
    spec: ModelSpec


def _model_config(entry: ModelEntry, preset: str) -> ModelConfig:
    if isinstance(entry, str):
        return ModelConfig(name=entry, preset=preset)
    try:
        label, name, kwargs = entry
    except (TypeError, ValueError):
        raise TypeError(
            f"a model must be a registry name or a (label, name, kwargs) tuple, got {entry!r}"
        ) from None
    return ModelConfig(name=name, label=label, preset=preset, kwargs=dict(kwargs or {}))


def _plan(
    models: Sequence[ModelEntry], preset: str, batch_size: int, epochs: int
) -> list[_Planned]:
    """Resolve every entry before anything trains: configuration errors fail here."""
    planned = [_model_config(entry, preset) for entry in models]
    if not planned:
        raise ConfigError("no model to measure")
    for m in planned:
        for key, value in (("batch_size", batch_size), ("n_epochs", epochs)):
            if key in m.kwargs and m.kwargs[key] != value:
                raise ConfigError(
                    f"model {m.label!r}: kwargs set {key}={m.kwargs[key]}, but every model of a "
                    f"throughput comparison uses {key}={value} (set it for all at once)"
                )
    labels = [m.label for m in planned]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ConfigError(f"duplicate model label(s): {', '.join(duplicates)}")
    return [_Planned(m, get_model_spec(m.name)) for m in planned]


def _reference_label(planned: Sequence[_Planned], reference: str | None) -> str:
    if reference is None:
        return planned[0].config.label
    for item in planned:  # a label first, then a registry name
        if item.config.label == reference:
            return reference
    for item in planned:
        if item.config.name == reference:
            return item.config.label
    raise ConfigError(
        f"reference model {reference!r} is not among the models measured "
        f"({', '.join(p.config.label for p in planned)}); pass one of them, or None for the first"
    )


def _record(**fields: Any) -> dict[str, Any]:
    return fill_record(
        fields, THROUGHPUT_FIELDS, schema=SCHEMA, kind="throughput record", note=NOTE
    )


def _slice_train(split: SplitLike, horizon: int, n_windows: int) -> TimeSeries:
    lookback = split.lookback
    rows = lookback + horizon + n_windows - 1
    available = count_windows(len(split.train), lookback, horizon)
    if available < n_windows:
        raise ConfigError(
            f"the train series ({len(split.train)} rows) has {available} windows at "
            f"L={lookback}, H={horizon}, fewer than the {n_windows} asked for"
        )
    train = split.train[:rows]
    if count_windows(len(train), lookback, horizon) != n_windows:
        raise AssertionError(f"the cut train series does not hold {n_windows} windows")
    return train


def _measure_one(
    item: _Planned,
    train: TimeSeries,
    *,
    lookback: int,
    horizon: int,
    n_windows: int,
    batch_size: int,
    epochs: int,
    seed: int,
    accelerator: str,
    common: Mapping[str, Any],
) -> dict[str, Any]:
    cfg, spec = item.config, item.spec
    kwargs = cfg.resolved_kwargs(spec.defaults, spec.test_settings)
    registry_batch_size = int(kwargs.get("batch_size", 32))  # darts' default
    kwargs.update(batch_size=batch_size, n_epochs=epochs)
    recorded_kwargs = {**kwargs, "random_state": seed}
    counter, timer = _WindowCounter(), training.EpochTimer()
    harness = training.trainer_kwargs(
        accelerator=accelerator,
        devices=1,
        patience=None,
        progress_bar=False,
        callbacks=[counter, timer],  # counter first: on a GPU it syncs before the timer reads
    )
    with tempfile.TemporaryDirectory(prefix="cnforecast-throughput-") as work_dir:
        kwargs.update(
            pl_trainer_kwargs=training.merge_trainer_kwargs(
                harness, kwargs.get("pl_trainer_kwargs")
            ),
            random_state=seed,
            save_checkpoints=False,
            work_dir=work_dir,
            model_name=f"throughput-{spec.name}",
            force_reset=True,
        )
        logger.info(
            "throughput: %s (%s), %d windows x %d epochs", cfg.label, spec.name, n_windows, epochs
        )
        model = spec.create(lookback, horizon, **kwargs)
        stats = training.fit(model, train)
        n_params = training.count_parameters(model)
        device = devices.describe_device(model)
    if stats.n_train_windows != n_windows:
        raise AssertionError(f"{cfg.label}: trained on {stats.n_train_windows} windows")
    if len(timer.epoch_seconds) != epochs or counter.windows_per_epoch != [n_windows] * epochs:
        raise AssertionError(
            f"{cfg.label}: expected {epochs} epoch(s) of {n_windows} windows, saw "
            f"{counter.windows_per_epoch} windows in {len(timer.epoch_seconds)} timed epoch(s)"
        )
    warmup = 1 if epochs >= 2 else 0
    median = statistics.median(timer.epoch_seconds[warmup:])
    speed = n_windows / median if median > 0 else float("nan")
    logger.info(
        "throughput: %s: %.3f s/epoch, %.1f windows/s, %d parameters",
        cfg.label,
        median,
        speed,
        n_params,
    )
    return _record(
        **common,
        status="ok",
        label=cfg.label,
        model=spec.name,
        model_kwargs=recorded_kwargs,
        n_params=n_params,
        registry_batch_size=registry_batch_size,
        batches_per_epoch=counter.batches_per_epoch,
        windows_seen_per_epoch=counter.windows_per_epoch,
        warmup_epochs=warmup,
        seconds_per_epoch=list(timer.epoch_seconds),
        median_seconds_per_epoch=median,
        windows_per_second=speed,
        device=device,
    )


def measure_throughput(
    models: Sequence[ModelEntry],
    split: SplitLike,
    horizon: int,
    *,
    n_windows: int = 1024,
    batch_size: int = 32,
    epochs: int = 2,
    seed: int = 0,
    threads: int | None = None,
    accelerator: str = "cpu",
    reference: str | None = DEFAULT_REFERENCE,
    preset: str = "default",
) -> list[dict[str, Any]]:
    """Train each model on the same windows and report its training windows per second.

    Parameters
    ----------
    models
        Registry names, or ``(label, registry name, kwargs)`` tuples whose ``kwargs``
        override the registry defaults (nested mappings merge). ``batch_size`` and
        ``n_epochs`` are this function's, the same for every model: kwargs that set them
        to other values are an error.
    split
        A split (:func:`cnforecast.bench.runner.load_standard_split`); only ``split.train``
        and ``split.lookback`` (the input length ``L``) are used.
    horizon
        Output length ``H``.
    n_windows
        Train on the first ``n_windows`` stride-1 windows of ``split.train``.
    batch_size
        The batch size of every model (registry batch sizes are overridden).
    epochs
        Epochs trained; with two or more, the first is warm-up and not timed.
    seed
        ``random_state`` of every model.
    threads
        torch CPU threads while measuring (restored afterwards); ``None``: unchanged.
    accelerator
        Lightning accelerator (``"cpu"``, ``"gpu"``, ...).
    reference
        Label (or registry name) of the model the ratios are taken to; ``None``: the first.
    preset
        ``"default"``: registry defaults; ``"test"``: with the registry's small
        ``test_settings`` on top (for smoke tests).

    Returns
    -------
    list of dict
        One record per model, in order, with every field of :data:`THROUGHPUT_FIELDS`;
        ``status`` is ``"ok"``; ``"skipped"`` for a model whose optional dependency is
        missing, ``"failed"`` for one whose training raised (the reason in ``error``; the
        other models are still measured).

    Raises
    ------
    cnforecast.models.registry.UnknownModelError
        A model name is not in the registry (checked before anything trains).
    cnforecast.errors.ConfigError
        (a ``ValueError``) Bad sizes, a reference that is not measured, a train series with
        fewer than ``n_windows`` windows, or a model's kwargs asking for another batch size.
    """
    for key, value in (("n_windows", n_windows), ("batch_size", batch_size), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    if preset not in PRESETS:
        raise ConfigError(f"preset {preset!r} is not one of {', '.join(PRESETS)}")
    planned = _plan(models, preset, batch_size, epochs)
    ref_label = _reference_label(planned, reference)
    train = _slice_train(split, horizon, n_windows)
    with devices.torch_threads(threads) as n_threads:
        common = {
            "dataset": getattr(split, "name", None),
            "lookback": split.lookback,
            "horizon": horizon,
            "seed": seed,
            "n_windows": n_windows,
            "batch_size": batch_size,
            "epochs": epochs,
            "reference": ref_label,
            "accelerator": accelerator,
            "threads": n_threads,
        }

        def outcome(item: _Planned, status: str, error: str) -> dict[str, Any]:
            return _record(
                **common,
                status=status,
                error=error,
                label=item.config.label,
                model=item.spec.name,
            )

        records = run_grid(
            planned,
            lambda item: _measure_one(
                item,
                train,
                lookback=split.lookback,
                horizon=horizon,
                n_windows=n_windows,
                batch_size=batch_size,
                epochs=epochs,
                seed=seed,
                accelerator=accelerator,
                common=common,
            ),
            name=lambda item: f"throughput of {item.config.label}",
            missing=lambda item: (item.spec.name, item.spec.missing_dependencies()),
            skipped=lambda item, reason: outcome(item, "skipped", reason),
            failed=lambda item, err: outcome(item, "failed", f"{type(err).__name__}: {err}"),
        )
    _add_ratios(records, ref_label)
    return records


def _add_ratios(records: list[dict[str, Any]], ref_label: str) -> None:
    ref = next((r for r in records if r["label"] == ref_label and r["status"] == "ok"), None)
    base = ref["windows_per_second"] if ref is not None else None
    if not base:
        logger.warning("reference model %s was not measured: no ratios", ref_label)
    for record in records:
        speed = record["windows_per_second"]
        record["ratio_to_reference"] = speed / base if base and speed is not None else None


def throughput_table(records: Iterable[Mapping[str, Any]]) -> str:
    """A Markdown table of measured records: model, params, s/epoch, windows/s, ratio.

    Examples
    --------
    >>> rows = [{"status": "ok", "label": "dlinear", "n_params": 18624,
    ...          "median_seconds_per_epoch": 0.5, "windows_per_second": 2048.0,
    ...          "ratio_to_reference": 1.0, "reference": "dlinear"}]
    >>> print(throughput_table(rows))
    | model | params | s/epoch | windows/s | ratio to dlinear |
    |---|---:|---:|---:|---:|
    | dlinear | 18,624 | 0.500 | 2048.0 | 1.00 |
    """
    rows = [r for r in records if r.get("status") == "ok"]
    reference = rows[0].get("reference") if rows else None
    lines = [
        f"| model | params | s/epoch | windows/s | ratio to {reference or 'reference'} |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.get("ratio_to_reference")
        lines.append(
            f"| {r['label']} | {r['n_params']:,} | {r['median_seconds_per_epoch']:.3f} | "
            f"{r['windows_per_second']:.1f} | {'-' if ratio is None else f'{ratio:.2f}'} |"
        )
    return "\n".join(lines)
