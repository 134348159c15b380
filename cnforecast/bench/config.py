"""The benchmark's typed configuration, read from YAML and/or command-line flags.

A configuration names the grid (models x datasets x horizons x seeds) and the training
budget. Unknown keys are rejected with the list of allowed keys, so a misspelt option never
silently falls back to its default. Example (``examples/configs/quickstart.yaml``)::

    datasets: [ETTh1]
    horizons: [96]
    lookback: 96
    seeds: [0]
    max_epochs: 3
    models:
      - dlinear                       # a registry name with its default settings
      - name: circuitnet              # or a mapping: registry name, label, preset, kwargs
        label: circuitnet[linear+product]
        kwargs: {motifs: [linear, product], batch_size: 64}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnforecast.errors import ConfigError
from cnforecast.settings import check_keys, deep_merge, model_kwargs, overrides, split_list

__all__ = [
    "ACCELERATORS",
    "DEFAULT_HORIZONS",
    "DEFAULT_REFERENCE",
    "PRESETS",
    "BenchConfig",
    "ConfigError",
    "ModelConfig",
    "config_from_dict",
    "deep_merge",
    "load_config",
]

#: Horizons of the long-horizon benchmark (Informer, Autoformer and their successors).
DEFAULT_HORIZONS: tuple[int, ...] = (96, 192, 336, 720)
#: Lightning accelerators the harness accepts.
ACCELERATORS: tuple[str, ...] = ("auto", "cpu", "gpu", "cuda", "mps")
#: The model ``cnforecast bench throughput`` divides every other model's windows/s by.
DEFAULT_REFERENCE = "circuitnet"
#: Base settings a model entry starts from: the registry's ``defaults`` (literature settings)
#: or ``defaults`` overridden by its small ``test_settings``.
PRESETS: tuple[str, ...] = ("default", "test")


def _int_tuple(value: Any, key: str, *, positive: bool = True) -> tuple[int, ...]:
    raw = split_list(value, repr(key))
    try:
        items = tuple(int(v) for v in raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{key!r} must be an integer or a list of integers, got {value!r}"
        ) from None
    if any(isinstance(v, bool) for v in raw) or (positive and any(v <= 0 for v in items)):
        raise ConfigError(f"{key!r} must hold positive integers, got {value!r}")
    if not items:
        raise ConfigError(f"{key!r} must not be empty")
    if len(set(items)) != len(items):
        raise ConfigError(f"{key!r} holds duplicates: {list(items)}")
    return items


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key!r} must be a positive integer, got {value!r}")
    return value


def _str_tuple(value: Any, key: str) -> tuple[str, ...]:
    items = split_list(value, repr(key)) if isinstance(value, str | Sequence) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError(f"{key!r} must be a string or a list of strings, got {value!r}")
    if not items:
        raise ConfigError(f"{key!r} must not be empty")
    if len(set(items)) != len(items):
        raise ConfigError(f"{key!r} holds duplicates: {items}")
    return tuple(items)


@dataclass(frozen=True)
class ModelConfig:
    """One model of the grid.

    Parameters
    ----------
    name
        Registry name (see ``cnforecast models``).
    label
        Name of this variant in records and tables, e.g. ``"circuitnet[linear+product]"``;
        defaults to ``name``. Labels are unique within a configuration.
    preset
        ``"default"``: start from the registry's ``defaults``; ``"test"``: also apply the
        registry's small ``test_settings`` (for smoke tests).
    kwargs
        Overrides of the model's constructor keyword arguments (``n_epochs``,
        ``batch_size``, ``optimizer_kwargs``, ``motifs``, ...). Nested mappings merge into
        the defaults; ``optimizer_cls`` / ``lr_scheduler_cls`` may be class names
        (``"AdamW"``, ``"ExponentialLR"``).
    horizons
        Run this model only at these horizons (e.g. a model too slow for long horizons on
        the CPU); ``None``: every horizon of the configuration.
    """

    name: str
    label: str = ""
    preset: str = "default"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    horizons: tuple[int, ...] | None = None

    ALLOWED_KEYS = ("name", "label", "preset", "kwargs", "horizons")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a model's 'name' must be a non-empty string, got {self.name!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if self.preset not in PRESETS:
            raise ConfigError(
                f"model {self.label!r}: preset {self.preset!r} is not one of {', '.join(PRESETS)}"
            )
        if not isinstance(self.kwargs, Mapping):
            raise ConfigError(f"model {self.label!r}: 'kwargs' must be a mapping")
        object.__setattr__(self, "kwargs", dict(self.kwargs))
        if self.horizons is not None:
            object.__setattr__(
                self, "horizons", _int_tuple(self.horizons, f"horizons of model {self.label!r}")
            )

    @classmethod
    def from_value(cls, value: Any) -> ModelConfig:
        """Build from a registry name or a mapping with the keys of :attr:`ALLOWED_KEYS`."""
        if isinstance(value, ModelConfig):
            return value
        if isinstance(value, str):
            return cls(name=value)
        if isinstance(value, Mapping):
            check_keys(value, cls.ALLOWED_KEYS, f"model entry {dict(value)!r}")
            if "name" not in value:
                raise ConfigError(f"model entry {dict(value)!r} has no 'name'")
            return cls(
                **{
                    k: (v if v is not None else {}) if k == "kwargs" else v
                    for k, v in value.items()
                }
            )
        raise ConfigError(f"a model entry must be a name or a mapping, got {value!r}")

    def resolved_kwargs(
        self,
        defaults: Mapping[str, Any],
        test_settings: Mapping[str, Any],
        max_epochs: int | None = None,
    ) -> dict[str, Any]:
        """The constructor keyword arguments, before the harness adds its own.

        Order, later wins: registry ``defaults``; ``test_settings`` when ``preset="test"``;
        ``n_epochs=max_epochs`` (the configuration's budget); this entry's ``kwargs``.
        """
        epochs = {"n_epochs": max_epochs} if max_epochs is not None else {}
        preset = test_settings if self.preset == "test" else {}
        return model_kwargs(defaults, preset, epochs, self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "preset": self.preset,
            "kwargs": dict(self.kwargs),
            "horizons": list(self.horizons) if self.horizons is not None else None,
        }


@dataclass(frozen=True)
class BenchConfig:
    """The benchmark grid and its training budget.

    Parameters
    ----------
    models
        The models (registry names or :class:`ModelConfig`).
    datasets
        Dataset names of :mod:`cnforecast.datasets` (``ETTh1``, ``weather``, ...).
    horizons
        Forecast horizons H.
    lookback
        Input length L (the literature's setting: 96).
    seeds
        Random seeds; each run gets ``random_state=seed``.
    max_epochs
        Training epochs unless a model's ``kwargs`` set ``n_epochs`` (literature: 10).
    patience
        Early-stopping patience in epochs on the validation loss (literature: 3);
        ``None`` (YAML ``null``): no early stopping.
    min_delta
        Smallest validation-loss decrease that counts as an improvement.
    restore_best
        Evaluate the weights of the epoch with the lowest validation loss (as the
        literature's scripts do) rather than those of the last epoch.
    max_train_windows
        At most this many (randomly drawn) training windows per epoch; ``None``: all.
    eval_batch_size
        Batch size for predicting the test windows (does not change the result).
    out
        Output folder: ``records.jsonl``, ``report.md``, ``plots/``.
    data
        Where the data files are (else ``CNFORECAST_DATA``, else the loader's cache).
    download
        Whether the loader may download missing files.
    verify
        Check each file's checksum and row count against the published file (turn off
        only for synthetic or modified files).
    accelerator, devices
        Passed to the Lightning trainer (``accelerator="auto"`` picks a GPU if there is one).
    num_threads
        CPU threads for torch during the grid (``torch.set_num_threads``); ``None`` keeps
        torch's default (all cores). On a CPU shared with other jobs, 1 is often faster.
    plots
        Whether :func:`cnforecast.bench.runner.run_benchmark` callers should draw plots.
    """

    models: tuple[ModelConfig, ...]
    datasets: tuple[str, ...]
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    lookback: int = 96
    seeds: tuple[int, ...] = (0,)
    max_epochs: int = 10
    patience: int | None = 3
    min_delta: float = 0.0
    restore_best: bool = True
    max_train_windows: int | None = None
    eval_batch_size: int = 256
    out: str = "results/bench"
    data: str | None = None
    download: bool = True
    verify: bool = True
    accelerator: str = "auto"
    devices: int | str | tuple[int, ...] = 1
    num_threads: int | None = None
    plots: bool = True

    def __post_init__(self) -> None:
        models = self.models
        if isinstance(models, str | Mapping | ModelConfig):
            models = [models]
        if not models:
            raise ConfigError("'models' must not be empty")
        models = tuple(ModelConfig.from_value(m) for m in models)
        labels = [m.label for m in models]
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ConfigError(f"model labels must be unique; repeated: {', '.join(dupes)}")
        set_ = object.__setattr__
        set_(self, "models", models)
        set_(self, "datasets", _str_tuple(self.datasets, "datasets"))
        set_(self, "horizons", _int_tuple(self.horizons, "horizons"))
        set_(self, "seeds", _int_tuple(self.seeds, "seeds", positive=False))
        for key in ("lookback", "max_epochs", "eval_batch_size"):
            set_(self, key, _positive_int(getattr(self, key), key))
        patience = self.patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 0
        ):
            raise ConfigError(f"'patience' must be an integer >= 0 or null, got {patience!r}")
        if self.max_train_windows is not None:
            set_(
                self,
                "max_train_windows",
                _positive_int(self.max_train_windows, "max_train_windows"),
            )
        if self.num_threads is not None:
            set_(self, "num_threads", _positive_int(self.num_threads, "num_threads"))
        if self.accelerator not in ACCELERATORS:
            raise ConfigError(
                f"accelerator {self.accelerator!r} is not one of {', '.join(ACCELERATORS)}"
            )
        if isinstance(self.devices, list):
            set_(self, "devices", tuple(self.devices))
        for key in ("restore_best", "download", "verify", "plots"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key!r} must be true or false, got {getattr(self, key)!r}")
        set_(self, "min_delta", float(self.min_delta))
        set_(self, "out", str(self.out))
        if self.data is not None:
            set_(self, "data", str(self.data))

    def horizons_of(self, model: ModelConfig) -> tuple[int, ...]:
        """The horizons ``model`` runs at: its own ``horizons``, else the configuration's."""
        return model.horizons if model.horizons is not None else self.horizons

    def n_runs(self) -> int:
        """Number of runs in the grid."""
        per_dataset = sum(len(self.horizons_of(m)) for m in self.models)
        return per_dataset * len(self.datasets) * len(self.seeds)

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        """The keys a configuration file may hold."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, **changes: Any) -> BenchConfig:
        """A copy with ``changes`` applied (``None`` values are ignored), validated again.

        This is the one place where flags (and keyword overrides) meet a configuration: an
        overriding ``max_epochs`` is a budget for every model, so the models' own
        ``n_epochs`` give way to it.
        """
        changes = overrides({}, changes)
        check_keys(changes, self.allowed_keys(), "the overrides")
        if "max_epochs" in changes:
            models = changes.get("models", self.models)
            if isinstance(models, str | Mapping | ModelConfig):
                models = [models]
            changes["models"] = tuple(
                dataclasses.replace(
                    m, kwargs={k: v for k, v in m.kwargs.items() if k != "n_epochs"}
                )
                for m in (ModelConfig.from_value(m) for m in models)
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON- and YAML-friendly form (for records and round trips)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "models":
                value = [m.to_dict() for m in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def config_from_dict(data: Mapping[str, Any], *, source: str = "the configuration") -> BenchConfig:
    """Build a :class:`BenchConfig` from a mapping, rejecting unknown keys.

    Examples
    --------
    >>> cfg = config_from_dict({"models": ["dlinear"], "datasets": ["ETTh1"], "horizons": 96})
    >>> cfg.horizons, cfg.lookback, cfg.models[0].label
    ((96,), 96, 'dlinear')
    >>> config_from_dict({"models": ["dlinear"], "datasets": ["ETTh1"], "epochs": 3})
    Traceback (most recent call last):
    ...
    cnforecast.errors.ConfigError: unknown key(s) 'epochs' in the configuration; allowed keys: models, datasets, ...
    """  # noqa: E501
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source} must be a mapping of keys to values, got {type(data).__name__}"
        )
    check_keys(data, BenchConfig.allowed_keys(), source)
    missing = [k for k in ("models", "datasets") if k not in data]
    if missing:
        raise ConfigError(f"{source} lacks the required key(s): {', '.join(missing)}")
    try:
        return BenchConfig(**data)
    except TypeError as err:  # e.g. a None where a list is needed
        raise ConfigError(f"{source}: {err}") from err


def load_config(path: str | Path, **changes: Any) -> BenchConfig:
    """Read a YAML configuration file; ``changes`` (not ``None``) override it.

    The overrides follow :meth:`BenchConfig.replace`, as the command-line flags do:
    ``load_config(path, max_epochs=3)`` is ``--config path --epochs 3``.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"cannot read the configuration {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    return config_from_dict(data, source=str(path)).replace(**changes)
