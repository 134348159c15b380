"""Run the benchmark grid: models x datasets x horizons x seeds, one record per run.

A model whose optional dependency is missing is recorded as ``"skipped"`` with the reason;
a run that raises is recorded as ``"failed"`` with the error and the grid goes on. Records
are appended to ``<out>/records.jsonl`` as soon as each run ends, so an interrupted grid
keeps what it measured (``resume=True`` then skips the runs already recorded as ``"ok"``).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnforecast.bench.config import BenchConfig, ModelConfig
from cnforecast.bench.records import (
    latest_records,
    new_record,
    read_records,
    run_key,
    write_record,
)
from cnforecast.engine import devices, training
from cnforecast.engine.evaluation import SplitLike, evaluate
from cnforecast.engine.grid import run_grid
from cnforecast.engine.provenance import git_commit
from cnforecast.models.registry import ModelSpec, get_model_spec
from cnforecast.settings import loss_setting

__all__ = [
    "FORECASTS_DIR",
    "RECORDS_FILE",
    "SplitLoader",
    "load_standard_split",
    "run_benchmark",
    "run_one",
]

logger = logging.getLogger(__name__)

#: File name of the records in the output folder.
RECORDS_FILE = "records.jsonl"
#: Folder (in the output folder) of the saved example forecasts used by the plots.
FORECASTS_DIR = "forecasts"

#: ``loader(dataset_name, lookback)`` -> the standard split.
SplitLoader = Callable[[str, int], SplitLike]


def load_standard_split(
    name: str,
    lookback: int,
    *,
    data: str | None = None,
    download: bool = True,
    verify: bool = True,
) -> SplitLike:
    """The standard, z-scored split of data set ``name`` (:mod:`cnforecast.datasets`).

    ``data`` is the file or its folder; ``None`` searches ``CNFORECAST_DATA``, the
    repository's ``datasets/`` folder and the cache (see :mod:`cnforecast.datasets.paths`).
    """
    from cnforecast.datasets import standard_split

    return standard_split(name, lookback, path=data, scale=True, download=download, verify=verify)


def _run_id(label: str, dataset: str, lookback: int, horizon: int, seed: int) -> str:
    raw = f"{label}_{dataset}_L{lookback}_H{horizon}_s{seed}"
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", raw).strip("-")


def _split_info(split: SplitLike) -> dict[str, Any]:
    info: dict[str, Any] = {
        "rows": {part: len(getattr(split, part)) for part in ("train", "val", "test")},
        "components": list(split.train.components),
    }
    borders = getattr(split, "borders", None)
    if borders is not None:
        info["borders"] = borders._asdict() if hasattr(borders, "_asdict") else borders
    for attr in ("name", "rule"):
        value = getattr(split, attr, None)
        if value is not None:
            info[attr] = value if isinstance(value, str | int | float) else repr(value)
    return info


def _base_fields(
    model_cfg: ModelConfig, dataset: str, config: BenchConfig, horizon: int, seed: int
) -> dict[str, Any]:
    return {
        "run_id": _run_id(model_cfg.label, dataset, config.lookback, horizon, seed),
        "model": model_cfg.name,
        "label": model_cfg.label,
        "dataset": dataset,
        "lookback": config.lookback,
        "horizon": horizon,
        "seed": seed,
        "config": config.to_dict(),
    }


def run_one(
    spec: ModelSpec,
    model_cfg: ModelConfig,
    split: SplitLike,
    *,
    dataset: str,
    horizon: int,
    seed: int,
    config: BenchConfig,
    out_dir: Path | None = None,
    started_at: str | None = None,
) -> dict[str, Any]:
    """Train and test one model on one split and horizon; return its ``"ok"`` record.

    Exceptions propagate (:func:`run_benchmark` records them as failed runs).

    Parameters
    ----------
    spec
        The registry entry.
    model_cfg
        The model's entry in the configuration (label, preset, kwargs).
    split
        The standard split at ``config.lookback``.
    dataset
        Data-set name, for the record.
    horizon, seed
        H and the random seed.
    config
        The benchmark configuration (training budget, devices).
    out_dir
        Where the example forecasts are saved (``<out_dir>/forecasts/<run_id>.npz``);
        ``None``: not saved.
    started_at
        When the run started, as the record states it (ISO 8601, UTC); ``None``: now. The
        record is written when the run ends, hours later for some runs.
    """
    lookback = config.lookback
    fields = {
        **_base_fields(model_cfg, dataset, config, horizon, seed),
        "started_at": started_at or _now(),
    }
    kwargs = model_cfg.resolved_kwargs(spec.defaults, spec.test_settings, config.max_epochs)
    batch_size = int(kwargs.get("batch_size", 32))
    harness_trainer = training.trainer_kwargs(
        accelerator=config.accelerator,
        devices=config.devices,
        patience=config.patience,
        min_delta=config.min_delta,
        limit_train_batches=(
            math.ceil(config.max_train_windows / batch_size)
            if config.max_train_windows is not None
            else None
        ),
        callbacks=[training.EpochTimer()],
    )
    recorded_kwargs = {**kwargs, "random_state": seed}
    if kwargs.get("loss_fn") is not None:  # as a config names it, arguments included
        recorded_kwargs["loss_fn"] = loss_setting(kwargs["loss_fn"])
    with tempfile.TemporaryDirectory(prefix="cnforecast-bench-") as work_dir:
        kwargs.update(
            pl_trainer_kwargs=training.merge_trainer_kwargs(
                harness_trainer, kwargs.get("pl_trainer_kwargs")
            ),
            random_state=seed,
            save_checkpoints=config.restore_best,
            work_dir=work_dir,
            model_name=fields["run_id"],
            force_reset=True,
        )
        logger.info("run %s: building %s", fields["run_id"], spec.name)
        model = spec.create(lookback, horizon, **kwargs)
        devices.reset_peak_memory()
        stats = training.fit(
            model,
            split.train,
            split.val,
            load_best=config.restore_best,
            max_train_windows=config.max_train_windows,
        )
        # every window of the test split, and of the validation split scored the same way:
        # the number to choose on, in MSE whatever loss the model trained on
        result, validation = (
            evaluate(
                model,
                getattr(split, part),
                lookback=lookback,
                horizon=horizon,
                expected_windows=split.n_windows(horizon, part=part),
                batch_size=config.eval_batch_size,
                **extra,
            )
            for part, extra in (("test", {}), ("val", {"n_examples": 0}))
        )
        memory, memory_kind = devices.peak_memory(devices.uses_cuda(model))
        n_params = training.count_parameters(model)
        device = devices.describe_device(model)
    forecast_file = None
    if out_dir is not None and result.examples is not None:
        target = out_dir / FORECASTS_DIR / f"{fields['run_id']}.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        result.examples.save(target)
        forecast_file = str(target.relative_to(out_dir))
    logger.info(
        "run %s: MSE %.4f MAE %.4f over %d test windows (validation: %.4f, %.4f)",
        fields["run_id"],
        result.mse,
        result.mae,
        result.n_windows,
        validation.mse,
        validation.mae,
    )
    return new_record(
        **fields,
        status="ok",
        model_kwargs=recorded_kwargs,
        split=_split_info(split),
        n_test_windows=result.n_windows,
        mse=result.mse,
        mae=result.mae,
        n_val_windows=validation.n_windows,
        val_mse=validation.mse,
        val_mae=validation.mae,
        n_params=n_params,
        n_train_windows=stats.n_train_windows,
        train_windows_per_epoch=stats.train_windows_per_epoch,
        train_time_s=stats.train_time_s,
        epochs_run=stats.epochs_run,
        time_per_epoch_s=stats.time_per_epoch_s,
        train_windows_per_s=stats.train_windows_per_s,
        best_val_loss=stats.best_val_loss,
        val_losses=stats.val_losses,
        stopped_early=stats.stopped_early,
        predict_time_s=result.predict_time_s,
        peak_memory_mb=memory,
        peak_memory_kind=memory_kind,
        device=device,
        forecast_file=forecast_file,
    )


def _now() -> str:
    """The UTC time, as records state it."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _failed(fields: Mapping[str, Any], err: BaseException, **extra: Any) -> dict[str, Any]:
    return new_record(**fields, **extra, status="failed", error=f"{type(err).__name__}: {err}")


def run_benchmark(
    config: BenchConfig,
    *,
    split_loader: SplitLoader | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    on_record: Callable[[Mapping[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every model x dataset x horizon x seed of ``config``.

    Parameters
    ----------
    config
        The grid and training budget.
    split_loader
        ``loader(dataset, lookback)`` returning the standard split; default:
        :func:`load_standard_split` with ``config.data`` and ``config.download``. Pass your
        own to benchmark data that is not in :mod:`cnforecast.datasets`.
    out_dir
        Output folder (default ``config.out``); records go to ``<out_dir>/records.jsonl``.
    resume
        Skip runs already recorded as ``"ok"`` in that file.
    on_record
        Called with each record once written (e.g. to print progress).

    Returns
    -------
    list of dict
        The records of this invocation, in run order.

    Raises
    ------
    cnforecast.models.registry.UnknownModelError
        A model name is not in the registry (checked before anything runs).
    cnforecast.errors.ConfigError
        A model's settings cannot be read, e.g. a loss with an argument it does not take
        (checked before anything runs).
    cnforecast.datasets.UnknownDatasetError
        With the default loader, a data-set name that is not registered (checked first).
    """
    out = Path(out_dir if out_dir is not None else config.out)
    records_path = out / RECORDS_FILE
    git_commit()  # the source tree's commit as the runs start, kept for their records
    # Unknown names are a configuration error: fail before training anything.
    specs = {m.label: get_model_spec(m.name) for m in config.models}
    for m in config.models:  # a bad setting (a loss's argument, a class name) too
        m.resolved_kwargs(specs[m.label].defaults, specs[m.label].test_settings, config.max_epochs)
    done: set[tuple[Any, ...]] = set()
    if resume and records_path.exists():
        done = {
            run_key(r)
            for r in latest_records(read_records(records_path))
            if r.get("status") == "ok"
        }
        logger.info("resume: %d run(s) already recorded in %s", len(done), records_path)
    datasets = list(config.datasets)
    if split_loader is None:
        from cnforecast.datasets import get_dataset_info

        # canonical names ("etth1" -> "ETTh1"); an unknown name fails here, before any run
        datasets = [get_dataset_info(name).name for name in datasets]

        def split_loader(name: str, lookback: int) -> SplitLike:
            return load_standard_split(
                name, lookback, data=config.data, download=config.download, verify=config.verify
            )

    out.mkdir(parents=True, exist_ok=True)
    tasks = [
        _Run(dataset, model_cfg, specs[model_cfg.label], horizon, seed)
        for dataset in datasets
        for model_cfg in config.models
        for horizon in config.horizons_of(model_cfg)
        for seed in config.seeds
        if _key(model_cfg, dataset, config, horizon, seed) not in done
    ]
    splits = _LastSplit(split_loader, config.lookback)

    started: dict[str, str] = {}  # when the current run started, for its record if it fails

    def run(task: _Run) -> dict[str, Any]:
        started["at"] = _now()
        return run_one(
            task.spec,
            task.model_cfg,
            splits.get(task.dataset),
            dataset=task.dataset,
            horizon=task.horizon,
            seed=task.seed,
            config=config,
            out_dir=out,
            started_at=started["at"],
        )

    def fields(task: _Run) -> dict[str, Any]:
        return _base_fields(task.model_cfg, task.dataset, config, task.horizon, task.seed)

    def emit(record: dict[str, Any]) -> None:
        write_record(records_path, record)
        if on_record is not None:
            on_record(record)

    return run_grid(
        tasks,
        run,
        name=lambda task: f"run {fields(task)['run_id']}",
        missing=lambda task: (task.spec.name, task.spec.missing_dependencies()),
        skipped=lambda task, reason: new_record(**fields(task), status="skipped", error=reason),
        failed=lambda task, err: _failed({**fields(task), "started_at": started["at"]}, err),
        emit=emit,
        threads=config.num_threads,
    )


@dataclass(frozen=True)
class _Run:
    dataset: str
    model_cfg: ModelConfig
    spec: ModelSpec
    horizon: int
    seed: int


def _key(
    model_cfg: ModelConfig, dataset: str, config: BenchConfig, horizon: int, seed: int
) -> tuple[Any, ...]:
    return run_key(
        {
            "label": model_cfg.label,
            "dataset": dataset,
            "lookback": config.lookback,
            "horizon": horizon,
            "seed": seed,
        }
    )


class _LastSplit:
    """The split of the data set being run, loaded once when a run first needs it.

    Only the latest data set is held; a loading error is kept and raised for every run of
    that data set (each is recorded as failed with it).
    """

    def __init__(self, loader: SplitLoader, lookback: int) -> None:
        self._loader, self._lookback = loader, lookback
        self._name: str | None = None
        self._split: SplitLike | None = None
        self._error: Exception | None = None

    def get(self, name: str) -> SplitLike:
        if name != self._name:
            self._name, self._split, self._error = name, None, None
            try:
                self._split = self._loader(name, self._lookback)
            except Exception as err:
                logger.error("data set %s could not be loaded: %s", name, err)
                self._error = err
        if self._error is not None:
            raise self._error
        assert self._split is not None
        return self._split


def summarize_statuses(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Count of records per status."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    return counts
