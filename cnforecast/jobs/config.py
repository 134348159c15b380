"""The typed configuration of a training job (``cnforecast fit --config model.yaml``).

A YAML file holds any of the fields of :class:`FitConfig`; unknown keys are rejected with the
list of allowed ones. Command-line flags override the file, and the file overrides the
defaults (the rules of :mod:`cnforecast.settings`). Example::

    model: circuitnet
    input_chunk_length: 96
    output_chunk_length: 24
    epochs: 20
    batch_size: 64
    lr: 0.001
    val_fraction: 0.1
    early_stopping_patience: 5
    model_kwargs:          # passed to the registry model (cnforecast models / docs)
      d_model: 32
    trainer_kwargs:        # passed to the Lightning Trainer
      gradient_clip_val: 1.0
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnforecast.jobs.errors import ConfigError
from cnforecast.jobs.tabular import FILL_METHODS, ColumnSpec, suggest
from cnforecast.settings import check_keys, overrides

#: Likelihoods a probabilistic model can be trained with (``likelihood``).
LIKELIHOODS: tuple[str, ...] = ("quantile", "gaussian")


@dataclass(frozen=True)
class FitConfig:
    """Everything a training job needs besides the data file and the output directory.

    Parameters
    ----------
    model
        Registry name of the model (``cnforecast.available_models()``).
    input_chunk_length, output_chunk_length
        Look-back window and the number of steps the model emits at once.
    epochs, batch_size, lr
        Training length, batch size and Adam learning rate; ``None`` keeps the model's
        registry default. They override the same settings in ``model_kwargs``.
    val_fraction
        Fraction of the end of each series held out for validation (0 = none).
    early_stopping_patience
        Stop after this many epochs without a better validation loss (needs ``val_fraction``).
    scale
        Standard-scale targets and covariates (statistics stored in the manifest).
    fill
        Missing-value handling, one of :data:`~cnforecast.jobs.tabular.FILL_METHODS`.
    seed
        Random seed of the model.
    likelihood, quantiles
        Train a probabilistic model: ``"quantile"`` (with ``quantiles``, which must include
        0.5) or ``"gaussian"``. ``None`` trains a point forecaster.
    accelerator, devices, strategy, num_nodes, precision
        Lightning Trainer settings (``"cpu"``, ``"gpu"``, ``"auto"``; a device count or
        ``"auto"``; ``"ddp"``, ...). ``precision=None`` follows the data (32-bit).
    model_kwargs
        Extra keyword arguments for the registry model.
    trainer_kwargs
        Extra keyword arguments for the Lightning Trainer.
    time_col, target_cols, past_cov_cols, future_cov_cols, id_col
        The columns of the data (may also be given on the command line).
    """

    model: str = "circuitnet"
    input_chunk_length: int = 96
    output_chunk_length: int = 24
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    val_fraction: float = 0.0
    early_stopping_patience: int | None = None
    scale: bool = True
    fill: str = "none"
    seed: int = 42
    likelihood: str | None = None
    quantiles: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.5, 0.9, 0.95])
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)
    time_col: str | None = None
    target_cols: list[str] | None = None
    past_cov_cols: list[str] = field(default_factory=list)
    future_cov_cols: list[str] = field(default_factory=list)
    id_col: str | None = None

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), hints[f.name])
        for name in ("input_chunk_length", "output_chunk_length", "num_nodes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("epochs", "batch_size", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.lr is not None and not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.early_stopping_patience is not None and self.val_fraction == 0:
            raise ConfigError("early_stopping_patience needs a validation set: set val_fraction")
        if self.fill not in FILL_METHODS:
            raise ConfigError(f"fill must be one of {', '.join(FILL_METHODS)}, got {self.fill!r}")
        if self.likelihood is not None and self.likelihood not in LIKELIHOODS:
            raise ConfigError(
                f"likelihood must be one of {', '.join(LIKELIHOODS)} (or unset), "
                f"got {self.likelihood!r}"
            )
        if self.likelihood == "quantile":
            qs = self.quantiles
            if not all(0 < q < 1 for q in qs) or sorted(set(qs)) != list(qs) or 0.5 not in qs:
                raise ConfigError(
                    f"quantiles must be increasing, in (0, 1) and include 0.5, got {qs}"
                )

    @property
    def min_series_length(self) -> int:
        """The fewest time steps a training series needs (input + output chunk)."""
        return self.input_chunk_length + self.output_chunk_length

    def columns(self) -> ColumnSpec:
        """The :class:`~cnforecast.jobs.tabular.ColumnSpec` of the data columns."""
        if not self.time_col or not self.target_cols:
            raise ConfigError(
                "the data columns are not set: give --time-col and --target-cols "
                "(or time_col and target_cols in the config file)"
            )
        return ColumnSpec(
            time=self.time_col,
            targets=tuple(self.target_cols),
            past_covariates=tuple(self.past_cov_cols),
            future_covariates=tuple(self.future_cov_cols),
            id=self.id_col,
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON- and YAML-ready dict of all fields."""
        return dataclasses.asdict(self)

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> FitConfig:
        """Build from a mapping; unknown keys raise :class:`ConfigError` listing allowed ones.

        Examples
        --------
        >>> FitConfig.from_dict({"model": "dlinear", "epochs": 3}).epochs
        3
        >>> FitConfig.from_dict({"epoch": 3})
        Traceback (most recent call last):
        ...
        cnforecast.errors.ConfigError: config: unknown key 'epoch'; did you mean 'epochs'? ...
        """
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of keys to values")
        check_keys(data, cls.allowed_keys(), source, hints=suggest)
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> FitConfig:
        """Read a YAML config file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_dict(data if data is not None else {}, source=str(path))

    def with_flags(self, flags: Mapping[str, Any]) -> FitConfig:
        """A copy with the command-line flags that were given (``None``: not given).

        A flag carries the name of its field (``--batch-size`` is ``batch_size``), so the
        flags are read by field name; other entries of ``flags`` are ignored.
        """
        return self.merged({key: flags.get(key) for key in self.allowed_keys()})

    def merged(self, changes: dict[str, Any]) -> FitConfig:
        """A copy with the non-``None`` values of ``changes`` applied (and validated)."""
        return self.from_dict(overrides(self.to_dict(), changes))


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check_type(name: str, value: Any, tp: Any) -> None:
    if not _matches(value, tp):
        raise ConfigError(
            f"{name} must be of type {_type_name(tp)}, got {value!r} ({type(value).__name__})"
        )


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is Any:
        return True
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)
