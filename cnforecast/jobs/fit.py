"""Training job: a table in, a model directory out (``cnforecast fit``)."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from darts import TimeSeries
from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel

from cnforecast.engine import training
from cnforecast.engine.provenance import check_output, sha256_file
from cnforecast.jobs.config import FitConfig
from cnforecast.jobs.errors import ConfigError, ForecastError
from cnforecast.jobs.forecaster import Forecaster
from cnforecast.jobs.manifest import build_manifest, save_model_dir, save_on_other_rank
from cnforecast.jobs.output_paths import check_not_input, check_writable
from cnforecast.jobs.scaling import BundleScaler
from cnforecast.jobs.tabular import ColumnSpec, SeriesBundle, frame_to_series, read_table, suggest
from cnforecast.models.registry import (
    MissingDependencyError,
    ModelSpec,
    UnknownModelError,
    available_models,
    get_model_spec,
)
from cnforecast.settings import model_kwargs

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What :func:`fit_job` produced.

    Attributes
    ----------
    model
        The trained darts model (on the scaled data if ``scaler`` is set).
    scaler
        The fitted scaler, or ``None`` with ``scale=False``.
    manifest
        The manifest record (also written to ``out/manifest.json``).
    out
        The model directory, or ``None`` if nothing was saved (no ``out``, or a DDP process
        other than rank 0).
    is_global_zero
        Whether this process is rank 0 (always true without distributed training).
    """

    model: TorchForecastingModel
    scaler: BundleScaler | None
    manifest: dict[str, Any]
    out: Path | None
    is_global_zero: bool = True
    stats: training.FitStats | None = None

    @property
    def forecaster(self) -> Forecaster:
        """The trained model, ready for :meth:`~Forecaster.predict` and backtests."""
        data = self.manifest["data"]
        return Forecaster(
            model=self.model,
            columns=ColumnSpec.from_dict(data["columns"]),
            freq=data["freq"],
            scaler=self.scaler,
            manifest=self.manifest,
            path=self.out,
        )


def trainer_kwargs(config: FitConfig, quiet: bool = False) -> dict[str, Any]:
    """The Lightning Trainer settings of a training job (:func:`engine.training.trainer_kwargs`
    with the job's hardware settings, then the config's ``trainer_kwargs`` on top)."""
    job = training.trainer_kwargs(
        accelerator=config.accelerator,
        devices=config.devices,
        strategy=config.strategy,
        num_nodes=config.num_nodes,
        precision=config.precision,
        patience=config.early_stopping_patience,
        progress_bar=not quiet,
        model_summary=not quiet,
        checkpointing=False,
        callbacks=[training.EpochTimer()],
    )
    return training.merge_trainer_kwargs(job, config.trainer_kwargs)


def model_spec(name: str) -> ModelSpec:
    """The registry entry of ``name``, or a :class:`ConfigError` with close matches."""
    try:
        return get_model_spec(name)
    except UnknownModelError as exc:
        raise ConfigError(f"{exc}{suggest(name, available_models())}") from None


def model_overrides(config: FitConfig) -> dict[str, Any]:
    """The job's named settings as darts keyword arguments (``epochs`` -> ``n_epochs``, ...).

    They override the same keys of ``model_kwargs``; the seed does not (``random_state``
    in ``model_kwargs`` wins over ``seed``, see :func:`build_model`).
    """
    named: dict[str, Any] = {}
    if config.epochs is not None:
        named["n_epochs"] = config.epochs
    if config.batch_size is not None:
        named["batch_size"] = config.batch_size
    if config.lr is not None:
        named["optimizer_kwargs"] = {"lr": config.lr}
    if config.likelihood is not None:
        from darts.utils.likelihood_models import GaussianLikelihood, QuantileRegression

        named["likelihood"] = (
            QuantileRegression(quantiles=list(config.quantiles))
            if config.likelihood == "quantile"
            else GaussianLikelihood()
        )
    return named


def build_model(config: FitConfig, quiet: bool = False) -> TorchForecastingModel:
    """Create the untrained registry model described by ``config``.

    The keyword arguments are, later winning (:func:`cnforecast.settings.model_kwargs`):
    the registry defaults, ``random_state=seed``, ``model_kwargs``, then the named settings
    (:func:`model_overrides`). The Trainer settings are those of :func:`trainer_kwargs`
    merged over ``model_kwargs["pl_trainer_kwargs"]``.
    """
    spec = model_spec(config.model)
    if config.likelihood is not None and not spec.probabilistic:
        raise ConfigError(f"model {config.model!r} does not support a likelihood")
    kwargs = model_kwargs(
        spec.defaults, {"random_state": config.seed}, config.model_kwargs, model_overrides(config)
    )
    kwargs["pl_trainer_kwargs"] = training.merge_trainer_kwargs(
        kwargs.get("pl_trainer_kwargs"), trainer_kwargs(config, quiet)
    )
    try:
        return spec.create(config.input_chunk_length, config.output_chunk_length, **kwargs)
    except MissingDependencyError as exc:
        raise ConfigError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot build model {config.model!r}: {exc}") from None


def _check_covariate_support(config: FitConfig, bundle: SeriesBundle) -> None:
    spec = model_spec(config.model)
    for kind, given, supported in (
        ("past", bundle.past_covariates, spec.supports_past_covariates),
        ("future", bundle.future_covariates, spec.supports_future_covariates),
    ):
        if given is not None and not supported:
            raise ConfigError(f"model {config.model!r} does not accept {kind} covariates")


def _split_validation(
    bundle: SeriesBundle, config: FitConfig
) -> tuple[list[TimeSeries], list[TimeSeries] | None]:
    if config.val_fraction == 0:
        return bundle.targets, None
    train, val = [], []
    icl, ocl = config.input_chunk_length, config.output_chunk_length
    for key, series in zip(bundle.ids, bundle.targets):
        n_val = max(round(len(series) * config.val_fraction), ocl)
        n_train = len(series) - n_val
        if n_train < icl + ocl:
            where = f"series {key!r}" if key is not None else "the series"
            raise ConfigError(
                f"{where} has {len(series)} time steps: too short to hold out "
                f"{n_val} for validation and keep {icl + ocl} (input + output chunk) for "
                "training; lower --val-fraction or use more data"
            )
        train.append(series[:n_train])
        val.append(series[n_train - icl :])
    return train, val


def data_fingerprint(data: str | os.PathLike[str] | pd.DataFrame) -> str:
    """SHA-256 of a data file's bytes, or of a DataFrame's content (index included)."""
    if isinstance(data, pd.DataFrame):
        hashed = pd.util.hash_pandas_object(data, index=True).to_numpy()
        return hashlib.sha256(hashed.tobytes()).hexdigest()
    return sha256_file(data)


def train(
    bundle: SeriesBundle, config: FitConfig, quiet: bool = False
) -> tuple[TorchForecastingModel, BundleScaler | None, training.FitStats]:
    """Fit a new model on ``bundle``; return it, the scaler it was trained with and the cost."""
    _check_covariate_support(config, bundle)
    model = build_model(config, quiet)
    scaler = None
    if config.scale:
        # fit the scaling statistics on the training part only (no look at validation data)
        train_part, _ = _split_validation(bundle, config)
        scaler = BundleScaler.fit(
            SeriesBundle(
                targets=train_part,
                past_covariates=bundle.past_covariates,
                future_covariates=bundle.future_covariates,
                ids=bundle.ids,
                freq=bundle.freq,
                columns=bundle.columns,
            )
        )
        bundle = scaler.transform(bundle)
    train_series, val_series = _split_validation(bundle, config)
    logger.info(
        "training %s on %d series (%d time steps in all)",
        config.model,
        len(train_series),
        sum(len(s) for s in train_series),
    )
    try:
        stats = training.fit(
            model,
            train_series,
            val_series or None,
            past_covariates=bundle.past_covariates,
            future_covariates=bundle.future_covariates,
        )
    except ValueError as exc:  # darts reports unusable inputs as ValueError
        raise ForecastError(f"training failed: {exc}") from exc
    return model, scaler, stats


def fit_job(
    data: str | os.PathLike[str] | pd.DataFrame,
    config: FitConfig,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    quiet: bool = False,
) -> FitResult:
    """Read a table, train the configured model, and save a model directory.

    Parameters
    ----------
    data
        A CSV/Parquet file or a DataFrame with the columns named in ``config``.
    config
        Model, training and column settings.
    out
        The model directory to write (refused if it exists, unless ``overwrite``); ``None``
        keeps the model in memory only.
    overwrite
        Replace an existing model directory.
    quiet
        No progress bar or model summary.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="h"),
    ...                    "y": np.sin(np.arange(60) / 4)})
    >>> config = FitConfig(model="dlinear", input_chunk_length=12, output_chunk_length=4,
    ...                    epochs=1, accelerator="cpu", time_col="time", target_cols=["y"],
    ...                    model_kwargs={"kernel_size": 5})
    >>> result = fit_job(df, config, quiet=True)
    >>> result.manifest["data"]["freq"], type(result.model).__name__
    ('h', 'DLinearModel')
    """
    columns = config.columns()
    model_spec(config.model)
    if out is not None:  # every check on the output before training, not after
        check_output(out, overwrite, "model directory")
        check_writable(out, "model directory")
        if not isinstance(data, pd.DataFrame):
            check_not_input(out, [data], "model directory", replaces_folder=True)
    source = str(data) if not isinstance(data, pd.DataFrame) else "DataFrame"
    df = data if isinstance(data, pd.DataFrame) else read_table(data, columns)
    reason = (
        f"input_chunk_length {config.input_chunk_length} + "
        f"output_chunk_length {config.output_chunk_length}"
    )
    bundle = frame_to_series(
        df,
        columns,
        fill=config.fill,
        min_length=config.min_series_length,
        min_length_reason=reason,
        source=source,
    )
    model, scaler, stats = train(bundle, config, quiet)
    manifest = build_manifest(
        model=model,
        model_name=config.model,
        columns=columns,
        freq=bundle.freq,
        scaler=scaler,
        config=config.to_dict(),
        data_sha256=data_fingerprint(data),
        data_source=Path(source).name if source != "DataFrame" else source,
        n_series=len(bundle),
        tz=bundle.tz,
    )
    trainer = model.trainer
    is_zero = trainer is None or trainer.is_global_zero
    saved = None
    if out is not None:
        if is_zero:
            saved = save_model_dir(model, manifest, out, overwrite=overwrite)
        else:
            save_on_other_rank(model)
    return FitResult(
        model=model,
        scaler=scaler,
        manifest=manifest,
        out=saved,
        is_global_zero=is_zero,
        stats=stats,
    )
