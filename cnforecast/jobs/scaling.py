"""Standard scaling of targets and covariates, stored as plain numbers in the manifest.

Each column is scaled with one mean and one standard deviation computed over all training
series together (not per series), so a fitted model can forecast series it has not seen.
The numbers are stored in ``manifest.json`` (no pickle), and forecasts are transformed back
to the original units with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from darts import TimeSeries

from cnforecast.jobs.tabular import SeriesBundle


@dataclass(frozen=True)
class StandardScaler:
    """Per-column ``(x - mean) / std``, fitted over a list of series.

    Examples
    --------
    >>> import numpy as np
    >>> from darts import TimeSeries
    >>> s = TimeSeries.from_values(np.array([[1.0], [3.0]], dtype=np.float32), columns=["y"])
    >>> scaler = StandardScaler.fit([s])
    >>> scaler.mean, scaler.std
    ({'y': 2.0}, {'y': 1.0})
    >>> scaler.inverse_transform(scaler.transform(s)).values().ravel().tolist()
    [1.0, 3.0]
    """

    mean: dict[str, float]
    std: dict[str, float]

    @classmethod
    def fit(cls, series: Sequence[TimeSeries]) -> StandardScaler:
        """Fit the means and standard deviations of each component over all ``series``."""
        names = list(series[0].components)
        stacked = np.concatenate([s.values(copy=False).astype(np.float64) for s in series])
        mean = np.nanmean(stacked, axis=0)
        std = np.nanstd(stacked, axis=0)
        std = np.where(~np.isfinite(std) | (std < 1e-12), 1.0, std)
        return cls(
            mean={n: float(m) for n, m in zip(names, mean)},
            std={n: float(s) for n, s in zip(names, std)},
        )

    def vectors(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The means and standard deviations of the components ``names``, in that order."""
        return np.array([self.mean[n] for n in names]), np.array([self.std[n] for n in names])

    def _arrays(self, ts: TimeSeries) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.vectors(list(ts.components))
        return mean[None, :, None], std[None, :, None]

    def transform(self, ts: TimeSeries) -> TimeSeries:
        """Scale one series (any number of samples)."""
        mean, std = self._arrays(ts)
        values = (ts.all_values(copy=False) - mean) / std
        return ts.with_values(values.astype(ts.dtype))

    def inverse_transform(self, ts: TimeSeries) -> TimeSeries:
        """Back to the original units."""
        mean, std = self._arrays(ts)
        values = ts.all_values(copy=False) * std + mean
        return ts.with_values(values.astype(ts.dtype))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": dict(self.mean), "std": dict(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StandardScaler:
        mean = {str(k): float(v) for k, v in data["mean"].items()}
        std = {str(k): float(v) for k, v in data["std"].items()}
        if set(mean) != set(std) or not all(math.isfinite(v) and v > 0 for v in std.values()):
            raise ValueError("invalid scaler record")
        return cls(mean=mean, std=std)


@dataclass(frozen=True)
class BundleScaler:
    """The scalers of a :class:`~cnforecast.jobs.tabular.SeriesBundle`: targets and covariates."""

    targets: StandardScaler
    past_covariates: StandardScaler | None = None
    future_covariates: StandardScaler | None = None

    @classmethod
    def fit(cls, bundle: SeriesBundle) -> BundleScaler:
        return cls(
            targets=StandardScaler.fit(bundle.targets),
            past_covariates=(
                StandardScaler.fit(bundle.past_covariates) if bundle.past_covariates else None
            ),
            future_covariates=(
                StandardScaler.fit(bundle.future_covariates) if bundle.future_covariates else None
            ),
        )

    def transform(self, bundle: SeriesBundle) -> SeriesBundle:
        """A new bundle with every series scaled."""

        def scale(series: list[TimeSeries] | None, scaler: StandardScaler | None):
            if series is None or scaler is None:
                return series
            return [scaler.transform(s) for s in series]

        return SeriesBundle(
            targets=scale(bundle.targets, self.targets),
            past_covariates=scale(bundle.past_covariates, self.past_covariates),
            future_covariates=scale(bundle.future_covariates, self.future_covariates),
            ids=list(bundle.ids),
            freq=bundle.freq,
            columns=bundle.columns,
            source=bundle.source,
        )

    def inverse_targets(self, series: Sequence[TimeSeries]) -> list[TimeSeries]:
        """Target forecasts back in the original units."""
        return [self.targets.inverse_transform(s) for s in series]

    def to_dict(self) -> dict[str, Any]:
        """The ``scaler`` record of a manifest."""
        return {
            "method": "standard",
            "targets": self.targets.to_dict(),
            "past_covariates": self.past_covariates.to_dict() if self.past_covariates else None,
            "future_covariates": (
                self.future_covariates.to_dict() if self.future_covariates else None
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundleScaler:
        if data.get("method") != "standard":
            raise ValueError(f"unknown scaling method {data.get('method')!r}")
        past, future = data.get("past_covariates"), data.get("future_covariates")
        return cls(
            targets=StandardScaler.from_dict(data["targets"]),
            past_covariates=StandardScaler.from_dict(past) if past else None,
            future_covariates=StandardScaler.from_dict(future) if future else None,
        )
