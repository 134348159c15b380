"""A trained model ready to use on tables: model, scaler, columns and frequency in one object.

:class:`Forecaster` is what ``cnforecast predict``, ``backtest`` and ``forecast-batch`` run:
it reads the series of a table with the model's columns, checks them against what the model
was trained on, scales them, forecasts (or backtests) and undoes the scaling. The input and
output lengths L and H are read from the model itself. The jobs around it only read tables,
write tables and report.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from darts import TimeSeries

from cnforecast.engine.metrics import error_metrics
from cnforecast.jobs.engines import ENGINES, Engine
from cnforecast.jobs.errors import ForecastError
from cnforecast.jobs.rollout import MAX_ROLLOUTS, check_finite, check_horizon
from cnforecast.jobs.scaling import BundleScaler
from cnforecast.jobs.tabular import (
    ColumnSpec,
    FillMethod,
    SeriesBundle,
    check_time_zone,
    forecasts_to_table,
    load_series,
    restore_time_zone,
)

__all__ = [
    "DEFAULT_NUM_SAMPLES",
    "DEFAULT_QUANTILES",
    "BacktestResult",
    "Forecaster",
    "inference_trainer_kwargs",
    "quantile_column",
]

if TYPE_CHECKING:
    from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel

    from cnforecast.inference.predictor import NetworkPredictor

logger = logging.getLogger(__name__)


DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
#: Samples drawn from a probabilistic model when ``num_samples`` is not given.
DEFAULT_NUM_SAMPLES = 100


def inference_trainer_kwargs(accelerator: str = "auto", quiet: bool = True) -> dict[str, Any]:
    """Lightning settings for prediction: one device, no logger, no checkpoints."""
    from cnforecast.engine.training import trainer_kwargs

    return trainer_kwargs(
        accelerator=accelerator, devices=1, progress_bar=not quiet, checkpointing=False
    )


def quantile_column(target: str, q: float) -> str:
    """The name of a quantile column.

    Examples
    --------
    >>> quantile_column("load", 0.1)
    'load_q0.1'
    """
    return f"{target}_q{q:g}"


@dataclass
class BacktestResult:
    """Historical forecasts and their errors.

    Attributes
    ----------
    forecasts
        One row per forecast point: id (if any), ``forecast_start``, time, ``step``
        (1 = first step of the forecast), and per target the forecast and ``{target}_actual``.
    metrics
        The ``metrics.json`` record: settings, overall, per target and per series errors.
    bundle
        The actual series (original units), for plotting.
    """

    forecasts: pd.DataFrame
    metrics: dict[str, Any]
    bundle: SeriesBundle

    def metrics_table(self) -> pd.DataFrame:
        """The metrics as a table: one row per series and target, then per target, overall."""
        rows = [*self.metrics["per_series"]]
        rows += [{"id": "ALL", "target": t, **m} for t, m in self.metrics["per_target"].items()]
        rows.append({"id": "ALL", "target": "ALL", **self.metrics["overall"]})
        table = pd.DataFrame(rows)
        return table[["id", "target", "n_points", "mse", "mae", "mape"]]


@dataclass
class Forecaster:
    """A trained darts model with the scaler, columns and frequency of its training data.

    Parameters
    ----------
    model
        The trained darts model (on scaled data when ``scaler`` is set), or its darts-free
        :class:`~cnforecast.inference.predictor.NetworkPredictor` (predicts, cannot backtest).
    columns
        The data columns the model was trained on.
    freq
        The frequency of the training data.
    scaler
        The fitted scaler, or ``None`` if the model was trained on the original values.
    manifest
        The model directory's ``manifest.json`` record (settings the model was trained with).
    path
        The model directory it was read from (``None`` for a model kept in memory).
    """

    model: TorchForecastingModel | NetworkPredictor
    columns: ColumnSpec
    freq: str | int
    scaler: BundleScaler | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike[str],
        accelerator: str = "auto",
        quiet: bool = True,
        engine: Engine = "darts",
    ) -> Forecaster:
        """Read a model directory for prediction (see :mod:`cnforecast.jobs.manifest`).

        ``engine="auto"`` predicts with the darts-free network where the directory has one
        and the model has no covariates and no likelihood (the same forecasts, without
        importing darts' models and Lightning: seconds less start-up), through ONNX Runtime
        where it can, else with the darts model; ``"network"`` and ``"onnx"`` insist on one
        of them; ``"darts"`` (the default) always loads the darts model, which also
        backtests. See :mod:`cnforecast.jobs.engines`.
        """
        from cnforecast.jobs.manifest import load_model_dir, load_network_dir

        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
        if engine != "darts":
            loaded = load_network_dir(model_dir, accelerator, engine)
            if loaded is not None:
                return loaded
        return load_model_dir(model_dir, inference_trainer_kwargs(accelerator, quiet))

    @property
    def uses_network(self) -> bool:
        """Whether the darts-free network predicts (:mod:`cnforecast.inference`)."""
        return not hasattr(self.model, "historical_forecasts")

    @property
    def input_chunk_length(self) -> int:
        """L: the input length of the model."""
        return int(self.model.input_chunk_length)

    @property
    def output_chunk_length(self) -> int:
        """H: the steps the model emits at once."""
        return int(self.model.output_chunk_length)

    @property
    def probabilistic(self) -> bool:
        return bool(self.model.supports_probabilistic_prediction)

    def _where(self) -> str:
        return f"the model in {str(self.path)!r}" if self.path is not None else "the model"

    # ------------------------------------------------------------------ settings of a call
    def resolve_fill(self, fill: FillMethod | None) -> FillMethod:
        """``fill``, else the missing-value handling the model was trained with (else none)."""
        return fill or self.manifest.get("config", {}).get("fill", "none")

    def resolve_num_samples(self, num_samples: int | None) -> int:
        """``num_samples`` checked against the model (default: 100 if probabilistic, else 1)."""
        if num_samples is None:
            return DEFAULT_NUM_SAMPLES if self.probabilistic else 1
        if num_samples < 1:
            raise ForecastError(f"num_samples must be at least 1, got {num_samples}")
        if num_samples > 1 and not self.probabilistic:
            raise ForecastError(
                f"{self._where()} is deterministic (trained without a likelihood), so it "
                "gives one sample only: drop --num-samples or train with --likelihood quantile"
            )
        return num_samples

    # --------------------------------------------------------------------------- data in
    def read(
        self,
        data: str | os.PathLike[str],
        fill: FillMethod | None = None,
        *,
        horizon: int = 0,
    ) -> SeriesBundle:
        """The series of a table, with the model's columns: at least L (+ ``horizon``) rows."""
        needed = self.input_chunk_length + horizon
        reason = (
            f"the model's input_chunk_length is {self.input_chunk_length}"
            if not horizon
            else "input_chunk_length + horizon"
        )
        return load_series(
            data,
            self.columns,
            fill=self.resolve_fill(fill),
            min_length=needed,
            min_length_reason=reason,
        )

    def check(self, bundle: SeriesBundle) -> None:
        """Check that ``bundle`` has the frequency (and kind of times) the model was trained on.

        Times with a time zone where the model's had none, or the other way round, are
        refused (:func:`~cnforecast.jobs.tabular.check_time_zone`); model directories
        written before the time zone was recorded are not checked.
        """
        if str(bundle.freq) != str(self.freq):
            raise ForecastError(
                f"{bundle.source}: the data has frequency {bundle.freq!r}, but "
                f"{self._where()} was trained on frequency {self.freq!r}"
            )
        data = self.manifest.get("data", {})
        if "tz" in data:
            check_time_zone(data["tz"], bundle, self._where())

    def _scaled(self, bundle: SeriesBundle) -> SeriesBundle:
        return self.scaler.transform(bundle) if self.scaler is not None else bundle

    def _unscaled(self, forecasts: Sequence[TimeSeries]) -> list[TimeSeries]:
        if self.scaler is None:
            return list(forecasts)
        return self.scaler.inverse_targets(list(forecasts))

    def _check_covariate_horizon(self, bundle: SeriesBundle, n: int) -> None:
        ocl = self.output_chunk_length
        if bundle.past_covariates is not None and n > ocl:
            raise ForecastError(
                f"the model uses past covariates, whose future values are unknown, so it can "
                f"forecast at most output_chunk_length={ocl} steps; got n={n}"
            )
        if bundle.future_covariates is None:
            return
        needed = max(n, ocl)
        for key, target, cov in zip(bundle.ids, bundle.targets, bundle.future_covariates):
            available = len(cov) - (cov.get_index_at_point(target.end_time()) + 1)
            if available < needed:
                where = f", series {key!r}" if key is not None else ""
                raise ForecastError(
                    f"{bundle.source}{where}: the future covariates reach {available} step(s) "
                    f"past the last target value, but forecasting n={n} steps needs {needed}; "
                    "add rows after the last observation with empty targets and the future "
                    "covariate values"
                )

    # --------------------------------------------------------------------------- predict
    def predict(
        self,
        bundle: SeriesBundle,
        n: int,
        num_samples: int = 1,
        batch_size: int | None = None,
        max_rollouts: int | None = MAX_ROLLOUTS,
    ) -> list[TimeSeries]:
        """Forecast ``n`` steps after the end of every target series, in one batched call.

        Returns the forecasts in the original units (scaling undone), one per series.
        ``n`` beyond ``max_rollouts`` times the model's output_chunk_length is refused, and
        so is a forecast that came out non-finite (see :mod:`cnforecast.jobs.rollout`).
        """
        check_horizon(n, self.output_chunk_length, max_rollouts, self._where())
        self.check(bundle)
        self._check_covariate_horizon(bundle, n)
        if self.uses_network:
            return self._predict_network(bundle, n, batch_size)
        scaled = self._scaled(bundle)
        try:
            preds = self.model.predict(
                n=n,
                series=scaled.targets,
                past_covariates=scaled.past_covariates,
                future_covariates=scaled.future_covariates,
                num_samples=num_samples,
                batch_size=batch_size,
                show_warnings=False,
            )
        except ValueError as exc:
            raise ForecastError(f"{bundle.source}: prediction failed: {exc}") from exc
        preds = [preds] if isinstance(preds, TimeSeries) else preds
        check_finite(
            [p.all_values(copy=False) for p in preds],
            bundle.ids,
            self.output_chunk_length,
            bundle.source,
        )
        return self._unscaled(preds)

    def _predict_network(
        self, bundle: SeriesBundle, n: int, batch_size: int | None
    ) -> list[TimeSeries]:
        """:meth:`predict` with the darts-free network: scaling done on arrays, all at once."""
        try:
            # (S, L, C): the last L values of every series, in the original units
            history = self.model.windows(bundle.targets)
            mean, std = np.zeros(history.shape[2]), np.ones(history.shape[2])
            if self.scaler is not None:
                mean, std = self.scaler.targets.vectors(self.columns.targets)
            phases = self.model.phases(bundle.targets)  # (S,) with a learned cycle
            values = self.model.forecast((history - mean) / std, n, batch_size, phases)
        except ValueError as exc:
            raise ForecastError(f"{bundle.source}: prediction failed: {exc}") from exc
        check_finite(values, bundle.ids, self.output_chunk_length, bundle.source)
        return self.model.to_series(bundle.targets, values * std + mean)

    def to_frame(
        self,
        forecasts: Sequence[TimeSeries],
        ids: Sequence[Any],
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        tz: str | None = None,
    ) -> pd.DataFrame:
        """One row per series and time step: id, time, each target (and its quantiles).

        For a probabilistic model the target columns hold the mean of the samples, and
        ``{target}_q{q}`` columns the requested quantiles. ``tz`` is the time zone of the
        input times (:attr:`SeriesBundle.tz`), put back on the forecast times.
        """
        return forecasts_to_table(forecasts, ids, self.columns, quantiles, tz)

    # -------------------------------------------------------------------------- backtest
    def backtest(
        self,
        bundle: SeriesBundle,
        start: float | int = 0.8,
        horizon: int | None = None,
        stride: int | None = None,
        retrain: bool = False,
        num_samples: int | None = None,
    ) -> BacktestResult:
        """Historical forecasts on ``bundle`` and their errors, in the original units.

        Parameters
        ----------
        bundle
            The series (original units).
        start
            First forecast point: a fraction of each series (``0.8``) or a position (an int).
        horizon
            Steps per forecast (default: H, the model's output_chunk_length).
        stride
            Steps between forecast points (default: ``horizon``: forecasts do not overlap).
        retrain
            Retrain the model before every forecast (slow); by default the model is used.
        num_samples
            Samples per forecast of a probabilistic model, whose point forecast is their
            mean (default 100; always 1 for a point-forecast model).
        """
        from cnforecast.engine.evaluation import rolling_forecasts

        if self.uses_network:
            raise ForecastError(
                f"{self._where()} was loaded for prediction only (its darts-free network): "
                "load it with engine='darts' to backtest"
            )
        samples = self.resolve_num_samples(num_samples)
        horizon = horizon or self.output_chunk_length
        stride = stride or horizon
        if horizon < 1 or stride < 1:
            raise ForecastError("horizon and stride must be at least 1")
        self.check(bundle)
        if retrain:
            logger.warning("retrain=True trains a new model for every forecast point: slow")
        scaled = self._scaled(bundle)
        try:
            per_series = rolling_forecasts(
                self.model,
                scaled.targets,
                horizon=horizon,
                start=start,
                stride=stride,
                retrain=retrain,
                num_samples=samples,
                past_covariates=scaled.past_covariates,
                future_covariates=scaled.future_covariates,
            )
        except ValueError as exc:
            raise ForecastError(f"{scaled.source}: historical forecasts failed: {exc}") from exc
        table = self._backtest_table(bundle, per_series)
        if table is None:
            raise ForecastError(
                "no historical forecast could be made: the series are too short for "
                f"start={start} and horizon={horizon}"
            )
        settings = {
            "model_dir": str(self.path),
            "model": self.manifest.get("model", {}).get("name"),
            "data": bundle.source,
            "start": start,
            "horizon": horizon,
            "stride": stride,
            "retrain": retrain,
        }
        metrics = self._backtest_metrics(table, settings)
        metrics["settings"]["num_samples"] = samples
        return BacktestResult(forecasts=table, metrics=metrics, bundle=bundle)

    def _backtest_table(
        self, bundle: SeriesBundle, per_series: Sequence[Sequence[TimeSeries]]
    ) -> pd.DataFrame | None:
        columns = self.columns
        frames = []
        for key, actual, forecasts in zip(bundle.ids, bundle.targets, per_series):
            for fc in self._unscaled(forecasts):
                data: dict[str, Any] = {}
                if columns.id:
                    data[columns.id] = [key] * len(fc)
                times = restore_time_zone(fc.time_index, bundle.tz, bundle.freq)
                data["forecast_start"] = [times[0]] * len(fc)
                data[columns.time] = times
                data["step"] = np.arange(1, len(fc) + 1)
                truth = actual.slice_intersect(fc).values(copy=False)
                predicted = fc.all_values(copy=False).mean(axis=2)
                for i, target in enumerate(columns.targets):
                    data[target] = predicted[:, i]
                    data[f"{target}_actual"] = truth[:, i]
                frames.append(pd.DataFrame(data))
        return pd.concat(frames, ignore_index=True) if frames else None

    def _backtest_metrics(self, table: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
        columns = self.columns
        targets = columns.targets

        def metrics_of(rows: pd.DataFrame, names: Sequence[str]) -> dict[str, Any]:
            actual = np.concatenate([rows[f"{t}_actual"].to_numpy() for t in names])
            predicted = np.concatenate([rows[t].to_numpy() for t in names])
            return error_metrics(actual, predicted)

        groups = table.groupby(columns.id, sort=False) if columns.id else [(None, table)]
        per_series = [
            {"id": key, "target": target, **metrics_of(rows, [target])}
            for key, rows in groups
            for target in targets
        ]
        by = [columns.id, "forecast_start"] if columns.id else ["forecast_start"]
        return {
            "settings": {
                **settings,
                "n_forecasts": int(table.groupby(by).ngroups),
                "units": "original (scaling undone)",
                "mape_unit": "percent",
            },
            "overall": metrics_of(table, targets),
            "per_target": {t: metrics_of(table, [t]) for t in targets},
            "per_series": per_series,
        }
