"""The rules every configuration follows, in one place.

Both entry points that take settings, ``cnforecast bench`` (:class:`~cnforecast.bench.config.
BenchConfig`) and ``cnforecast fit`` (:class:`~cnforecast.jobs.config.FitConfig`), read a YAML
file and flags with these rules:

Precedence
    registry defaults < the model's preset (``test``) < the configuration file < the
    command-line flags (or the keyword overrides of the Python API: ``load_config(path,
    max_epochs=3)`` and ``--epochs 3`` are the same override). A flag left out (``None``)
    keeps the file's value (:func:`overrides`). Model keyword arguments are merged with the
    registry defaults once, by :func:`model_kwargs`; nested mappings (``optimizer_kwargs``)
    merge key by key.
Names
    A setting keeps its name from the flag to the configuration (``--batch-size`` ->
    ``batch_size``), except where darts names it otherwise; :data:`DARTS_NAMES` lists
    those, and the one place each is translated.
Errors
    Every invalid value raises :class:`~cnforecast.errors.ConfigError`; the command line
    reports it on one line.

This module imports neither torch nor darts.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cnforecast.errors import ConfigError

__all__ = [
    "DARTS_NAMES",
    "ConfigError",
    "check_keys",
    "deep_merge",
    "model_kwargs",
    "overrides",
    "parse_devices",
    "split_list",
]

#: Settings whose darts name differs from the configuration's, and where they are translated:
#: ``--epochs`` is ``max_epochs`` in a benchmark configuration (a budget: a model's own
#: ``n_epochs`` in the file gives way to the flag) and ``epochs`` in a training job, and both
#: become darts' ``n_epochs`` in :meth:`cnforecast.bench.config.ModelConfig.resolved_kwargs`
#: and :func:`cnforecast.jobs.fit.model_overrides`.
DARTS_NAMES: dict[str, str] = {
    "max_epochs": "n_epochs",
    "epochs": "n_epochs",
    "lr": "optimizer_kwargs.lr",
    "seed": "random_state",
}

# Keyword arguments naming a class, which YAML can only give as a string.
_CLASS_KWARGS: dict[str, str] = {
    "optimizer_cls": "torch.optim",
    "lr_scheduler_cls": "torch.optim.lr_scheduler",
}


def deep_merge(*mappings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge mappings left to right; nested mappings merge, other values are replaced.

    Examples
    --------
    >>> deep_merge({"a": 1, "opt": {"lr": 1e-3, "eps": 1e-8}}, {"opt": {"lr": 1e-4}})
    {'a': 1, 'opt': {'lr': 0.0001, 'eps': 1e-08}}
    """
    out: dict[str, Any] = {}
    for mapping in mappings:
        for key, value in (mapping or {}).items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = deep_merge(out[key], value)
            elif isinstance(value, Mapping):
                out[key] = deep_merge(value)
            else:
                out[key] = copy.copy(value)
    return out


def overrides(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by the values of ``changes`` that are not ``None`` (flags given).

    Examples
    --------
    >>> overrides({"epochs": 3, "lr": 0.01}, {"epochs": 5, "lr": None})
    {'epochs': 5, 'lr': 0.01}
    """
    return {**base, **{k: v for k, v in changes.items() if v is not None}}


def model_kwargs(defaults: Mapping[str, Any], *layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """A model's keyword arguments: registry ``defaults`` deep-merged with ``layers``.

    Class names given as strings (``optimizer_cls: AdamW``) become classes, a loss named
    by its class (``loss_fn: L1Loss``, or with arguments ``loss_fn: {name: HuberLoss,
    delta: 0.5}``) becomes an instance of it, and YAML lists of motifs become tuples.

    Examples
    --------
    >>> kw = model_kwargs({"optimizer_kwargs": {"lr": 1e-3}}, {"optimizer_cls": "AdamW"})
    >>> kw["optimizer_kwargs"], kw["optimizer_cls"].__name__
    ({'lr': 0.001}, 'AdamW')
    """
    kwargs = deep_merge(defaults, *layers)
    for key, module in _CLASS_KWARGS.items():
        if isinstance(kwargs.get(key), str):
            kwargs[key] = _resolve_class(key, kwargs[key], module)
    loss = kwargs.get("loss_fn")
    if isinstance(loss, str | Mapping):
        kwargs["loss_fn"] = _loss(loss)
    elif loss is not None and not callable(loss):  # a YAML number or list
        raise ConfigError(
            f"loss_fn={loss!r} is not a loss; give its torch.nn class (loss_fn: L1Loss) or "
            "the class with its arguments (loss_fn: {name: HuberLoss, delta: 0.5})"
        )
    if isinstance(kwargs.get("motifs"), list):  # YAML lists -> the tuple CircuitNet takes
        kwargs["motifs"] = tuple(kwargs["motifs"])
    return kwargs


def _loss(setting: str | Mapping[str, Any]) -> Any:
    """A loss setting -> a new instance: ``L1Loss`` (a class of ``torch.nn``, or a dotted
    path), or a mapping of its ``name`` and keyword arguments, ``{name: HuberLoss, delta: 0.5}``.

    The instance is tried once on a zero batch, so an argument torch only checks when the
    loss is computed (a negative ``delta``) is refused here, not after the first epoch.

    Examples
    --------
    >>> _loss("L1Loss")
    L1Loss()
    >>> _loss({"name": "HuberLoss", "delta": 0.5}).delta
    0.5
    """
    import torch
    from torch import nn

    if isinstance(setting, Mapping):
        arguments = dict(setting)
        name = arguments.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(
                f"loss_fn={dict(setting)!r}: a loss given with arguments needs its class as "
                "'name', e.g. {name: HuberLoss, delta: 0.5}"
            )
    else:
        name, arguments = setting, {}
    cls = _resolve_class("loss_fn", name, "torch.nn")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ConfigError(
            f"loss_fn={name!r} is not a torch loss module; give a class of torch.nn such as "
            "MSELoss (darts' default), L1Loss or HuberLoss."
        )
    try:
        loss = cls(**arguments)
        batch = torch.zeros(1, 1, 1)  # (batch, time, component), as darts calls a loss
        loss(batch, batch)
    except (TypeError, ValueError, RuntimeError) as exc:
        accepted = ", ".join(_loss_arguments(cls)) or "none"
        raise ConfigError(
            f"loss_fn {name} with arguments {arguments!r}: {exc} "
            f"(the arguments {name} accepts: {accepted})"
        ) from None
    return loss


def loss_setting(loss: Any) -> str | dict[str, Any]:
    """The configuration form of a loss instance, the inverse of ``model_kwargs``' reading.

    Its ``torch.nn`` class name (a dotted path for other classes), with the arguments that
    differ from the class's defaults as a mapping; bench records and job manifests keep
    this, so a ``HuberLoss(delta=0.5)`` run is told apart from a ``HuberLoss()`` one.

    Examples
    --------
    >>> import torch
    >>> loss_setting(torch.nn.HuberLoss()), loss_setting(torch.nn.HuberLoss(delta=0.5))
    ('HuberLoss', {'name': 'HuberLoss', 'delta': 0.5})
    """
    from torch import nn

    cls = type(loss)
    in_torch = getattr(nn, cls.__name__, None) is cls
    name = cls.__name__ if in_torch else f"{cls.__module__}.{cls.__qualname__}"
    changed: dict[str, Any] = {}
    for argument, default in _loss_arguments(cls).items():
        value = getattr(loss, argument, default)
        if not isinstance(value, bool | int | float | str | None):
            changed[argument] = repr(value)  # a tensor weight: shown, not round-tripped
        elif value != default:
            changed[argument] = value
    return {"name": name, **changed} if changed else name


def _loss_arguments(cls: type) -> dict[str, Any]:
    """The keyword arguments of a loss class with their defaults (torch's deprecated
    ``size_average`` and ``reduce`` left out)."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in parameters
        if p.default is not inspect.Parameter.empty and p.name not in ("size_average", "reduce")
    }


def _resolve_class(key: str, value: str, default_module: str) -> Any:
    """``"Adam"`` or ``"torch.optim.AdamW"`` -> the class."""
    module_name, _, attr = value.rpartition(".")
    module_name = module_name or default_module
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise ConfigError(f"{key}={value!r}: no class {attr!r} in module {module_name!r}") from None


def check_keys(
    data: Mapping[str, Any],
    allowed: Sequence[str],
    where: str,
    *,
    hints: Callable[[str, Sequence[str]], str] | None = None,
) -> None:
    """Raise :class:`ConfigError` for keys of ``data`` that are not in ``allowed``.

    The message lists the allowed keys; with ``hints`` (e.g.
    :func:`cnforecast.jobs.tabular.suggest`, which proposes close matches), one sentence
    per unknown key with its hint.

    Examples
    --------
    >>> check_keys({"epoch": 3}, ["epochs", "lr"], "config")
    Traceback (most recent call last):
    ...
    cnforecast.errors.ConfigError: unknown key(s) 'epoch' in config; allowed keys: epochs, lr
    """
    allowed = tuple(allowed)
    unknown = [k for k in data if k not in allowed]
    if not unknown:
        return
    if hints is not None:
        text = "; ".join(f"unknown key {k!r}{hints(str(k), allowed)}" for k in unknown)
        raise ConfigError(f"{where}: {text} Allowed keys: {', '.join(allowed)}")
    raise ConfigError(
        f"unknown key(s) {', '.join(map(repr, sorted(unknown)))} in {where}; "
        f"allowed keys: {', '.join(allowed)}"
    )


def split_list(value: Any, what: str = "value") -> list[Any]:
    """A comma-separated string (spaces ignored) or a single value or a list, as a list.

    Examples
    --------
    >>> split_list("96, 336"), split_list(96), split_list(["a", "b"])
    (['96', '336'], [96], ['a', 'b'])
    """
    if isinstance(value, str):
        return [v for v in value.replace(" ", "").split(",") if v]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return list(value)
    if isinstance(value, int | float):
        return [value]
    raise ConfigError(f"{what} must be a value or a list, got {value!r}")


def parse_devices(text: str | int | Sequence[int] | None) -> int | str | list[int] | None:
    """Lightning's ``devices``: a count, ``"auto"``, or device indices (``"0,1"``).

    Examples
    --------
    >>> parse_devices("2"), parse_devices("auto"), parse_devices("0,1"), parse_devices("-1")
    (2, 'auto', [0, 1], -1)
    """
    if text is None or isinstance(text, int):
        return text
    if not isinstance(text, str):
        return [int(v) for v in text]
    if text.lstrip("-").isdigit():
        return int(text)
    if "," in text:
        try:
            return [int(v) for v in split_list(text)]
        except ValueError:
            raise ConfigError(f"devices must be a count, 'auto' or indices, got {text!r}") from None
    return text
