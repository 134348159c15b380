"""The literature's standard train / validation / test split, scaling and window counts.

Follows Time-Series-Library ``data_provider/data_loader.py`` exactly:

- row borders from the data set's rule (:mod:`cnforecast.datasets.rules`); the validation
  and test parts start ``lookback`` rows before their border, so that their first window's
  input lies just before the border (``border1s = [0, n_train - L, n - n_test - L]``,
  ``border2s = [n_train, n_train + n_val, n]``);
- a ``StandardScaler`` fitted on the training rows only, applied to every part (z-score with
  the training mean and the population standard deviation, ``ddof=0``);
- windows of stride 1: ``len(part) - lookback - horizon + 1`` of them per part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from darts import TimeSeries
from darts.dataprocessing.transformers import Scaler
from sklearn.preprocessing import StandardScaler

from cnforecast.datasets.errors import SplitError
from cnforecast.datasets.loading import PathLike, load_dataset
from cnforecast.datasets.registry import get_dataset_info
from cnforecast.datasets.rules import SplitRule

Part = Literal["train", "val", "test"]
PARTS: tuple[Part, ...] = ("train", "val", "test")


class SplitBorders(NamedTuple):
    """Row borders of the three parts in the full series: ``[start, end)`` each.

    ``val_start = train_end - lookback`` and ``test_start = val_end - lookback``: the
    validation and test parts borrow their first ``lookback`` rows from the part before.
    A named tuple of integers: ``borders._asdict()`` gives them by name.
    """

    train_start: int
    train_end: int
    val_start: int
    val_end: int
    test_start: int
    test_end: int

    def slice(self, part: Part) -> slice:
        """Row slice of ``part`` in the full series."""
        _check_part(part)
        return slice(getattr(self, f"{part}_start"), getattr(self, f"{part}_end"))


def split_borders(rule: SplitRule, n_rows: int, lookback: int) -> SplitBorders:
    """Borders of the standard split of a series of ``n_rows`` rows.

    Examples
    --------
    >>> from cnforecast.datasets.rules import ETT_HOURLY_SPLIT
    >>> split_borders(ETT_HOURLY_SPLIT, 17420, 96)  # doctest: +NORMALIZE_WHITESPACE
    SplitBorders(train_start=0, train_end=8640, val_start=8544, val_end=11520,
                 test_start=11424, test_end=14400)
    """
    _check_count("lookback", lookback, minimum=0)
    n_train, n_val, n_test = rule.lengths(n_rows)
    if lookback > n_train:
        raise SplitError(
            f"lookback {lookback} is longer than the training part ({n_train} rows), so the "
            "validation part cannot borrow its input rows"
        )
    train_end = n_train
    val_end = n_train + n_val
    return SplitBorders(
        train_start=0,
        train_end=train_end,
        val_start=train_end - lookback,
        val_end=val_end,
        test_start=val_end - lookback,
        test_end=val_end + n_test,
    )


@dataclass(frozen=True, eq=False)
class DatasetSplit:
    """The standard split of one data set, ready for training and evaluation.

    Attributes
    ----------
    train, val, test
        ``float32`` series of the three parts (scaled when :attr:`scaler` is set). ``val``
        and ``test`` start ``lookback`` rows before their border.
    scaler
        darts ``Scaler`` wrapping a sklearn ``StandardScaler`` fitted on the training rows;
        ``scaler.inverse_transform(series)`` returns to the original units. ``None`` when
        the split was made with ``scale=False``.
    borders
        Row borders of each part in the full series.
    lookback
        Input length ``L`` the split was made for.
    name
        Canonical data-set name, or ``None`` for a series given directly.
    rule
        The split rule that made the borders.
    """

    train: TimeSeries
    val: TimeSeries
    test: TimeSeries
    scaler: Scaler | None
    borders: SplitBorders
    lookback: int
    name: str | None = None
    rule: SplitRule | None = None

    def part(self, part: Part) -> TimeSeries:
        """The series of ``part`` (``"train"``, ``"val"`` or ``"test"``)."""
        _check_part(part)
        return getattr(self, part)

    def n_windows(self, horizon: int, part: Part = "test") -> int:
        """Number of stride-1 windows of ``lookback`` inputs and ``horizon`` targets in ``part``.

        ``len(part) - lookback - horizon + 1`` (Time-Series-Library's ``__len__``), or 0 when
        the part is too short for one window.
        """
        _check_count("horizon", horizon, minimum=1)
        return max(0, len(self.part(part)) - self.lookback - horizon + 1)

    def window_starts(self, horizon: int, part: Part = "test") -> np.ndarray:
        """Start positions, within ``part``, of every window.

        Window ``i`` reads rows ``[i, i + lookback)`` of the part as input and predicts rows
        ``[i + lookback, i + lookback + horizon)``; there are :meth:`n_windows` of them.
        """
        return np.arange(self.n_windows(horizon, part))

    def forecast_start(self, part: Part = "test") -> pd.Timestamp | int:
        """Time of the first predicted row of ``part``: its row ``lookback``.

        Passed as ``start`` to darts ``historical_forecasts(series=split.test,
        forecast_horizon=H, stride=1, retrain=False, last_points_only=False)``, it yields
        exactly :meth:`n_windows` forecasts, one per window.
        """
        series = self.part(part)
        if len(series) <= self.lookback:
            raise SplitError(f"the {part} part has no row after its {self.lookback} input rows")
        return series.time_index[self.lookback]


def standard_split(
    data: str | TimeSeries,
    lookback: int,
    *,
    rule: SplitRule | None = None,
    path: PathLike | None = None,
    scale: bool = True,
    download: bool = True,
    verify: bool = True,
) -> DatasetSplit:
    """Split a data set the way the long-horizon literature does.

    Parameters
    ----------
    data
        A registered data-set name (any case), loaded with :func:`load_dataset`; or an
        already loaded TimeSeries, which then needs ``rule``.
    lookback
        Input length ``L``; the validation and test parts start ``L`` rows before their
        border.
    rule
        Split rule; defaults to the registered data set's rule.
    path, download, verify
        Passed to :func:`load_dataset` when ``data`` is a name.
    scale
        Fit a ``StandardScaler`` on the training rows and scale every part with it (in
        ``float64``, then stored as ``float32``).

    Returns
    -------
    DatasetSplit

    Raises
    ------
    SplitError
        When the series is too short for the rule or the lookback.

    Examples
    --------
    >>> import numpy as np
    >>> from darts import TimeSeries
    >>> from cnforecast.datasets.rules import RatioSplit
    >>> series = TimeSeries.from_values(np.arange(100.0))
    >>> split = standard_split(series, 8, rule=RatioSplit(0.7, 0.2))
    >>> len(split.train), len(split.val), len(split.test), split.n_windows(4)
    (70, 18, 28, 17)
    """
    name: str | None = None
    if isinstance(data, TimeSeries):
        if rule is None:
            raise ValueError("a split rule is needed to split a TimeSeries (rule=...)")
        series = data
    else:
        info = get_dataset_info(data)
        name = info.name
        rule = rule or info.split
        series = load_dataset(info.name, path, download=download, verify=verify, dtype=np.float64)
    borders = split_borders(rule, len(series), lookback)
    full = series.astype(np.float64)
    parts = {part: full[borders.slice(part)] for part in PARTS}
    scaler: Scaler | None = None
    if scale:
        scaler = Scaler(StandardScaler(), name="StandardScaler(train)")
        scaler.fit(parts["train"])
        parts = {part: scaler.transform(values) for part, values in parts.items()}
    return DatasetSplit(
        **{part: values.astype(np.float32) for part, values in parts.items()},
        scaler=scaler,
        borders=borders,
        lookback=lookback,
        name=name,
        rule=rule,
    )


def _check_part(part: str) -> None:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of {', '.join(PARTS)}")


def _check_count(label: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{label} must be an integer >= {minimum}, got {value!r}")
