"""The one validated configuration of a CircuitNet, handed whole to every layer.

Every default and every check of the circuit's hyper-parameters lives here once: the
darts-facing :class:`~cnforecast.models.circuitnet.CircuitNetModel` builds a
:class:`CircuitConfig` from its arguments (so bad values fail at construction, before any
training) and the layers read their sizes from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Literal, get_args

import numpy as np

from cnforecast.layers.periodic import CYCLE_GAIN

#: The transmission terms a unit can use; any non-empty subset is a valid ``motifs``.
MOTIFS: tuple[str, ...] = ("linear", "attention", "product")

ReadoutKind = Literal["all", "ports"]
CycleInit = Literal["mean", "zero"]
#: Where the learned cycle starts (see ``CircuitNetModel``'s ``cycle_init``).
CYCLE_INITS: tuple[str, ...] = get_args(CycleInit)
#: Which neurons the read-out reads: every neuron, or only the output ports.
READOUTS: tuple[str, ...] = get_args(ReadoutKind)
ReadoutInit = Literal["zero", "random"]
#: How the read-out's last map starts (see ``CircuitNetModel``'s ``readout_init``).
READOUT_INITS: tuple[str, ...] = get_args(ReadoutInit)
LinearInit = Literal["random", "lstsq", "lstsq_far"]
#: How the linear path starts (see ``CircuitNetModel``'s ``linear_init``).
LINEAR_INITS: tuple[str, ...] = get_args(LinearInit)


#: What a configuration saved before a field existed meant by it: the model it was trained
#: as. Filled in when such a configuration is loaded (pickled inside a saved model, or the
#: ``config`` of a network file), whatever today's default is.
LEGACY_VALUES: dict[str, object] = {
    "linear_gain": 1.0,
    "cycle_gain": 10.0,
    "cycle_init": "zero",
    "readout_init": "zero",
    "linear_init": "random",
    "variable_exchange": False,
}


def normalize_motifs(motifs: str | Iterable[str]) -> tuple[str, ...]:
    """Validate ``motifs`` and return it as a tuple in the canonical order of :data:`MOTIFS`.

    A string may name one term or several joined by ``+`` or ``,`` (``"linear+product"``).

    Examples
    --------
    >>> normalize_motifs("product+linear")
    ('linear', 'product')
    """
    if isinstance(motifs, str):
        names = [part.strip() for part in motifs.replace(",", "+").split("+") if part.strip()]
    else:
        names = list(motifs)
    unknown = [name for name in names if name not in MOTIFS]
    if unknown:
        raise ValueError(
            f"unknown motif(s) {unknown}; motifs must be a non-empty subset of {MOTIFS}."
        )
    if not names:
        raise ValueError(
            f"motifs is empty; give a non-empty subset of {MOTIFS}, for example "
            "motifs=('linear', 'attention', 'product')."
        )
    return tuple(name for name in MOTIFS if name in names)


def _is_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


@dataclass(frozen=True)
class CircuitConfig:
    """Hyper-parameters of the circuit (see ``CircuitNetModel`` for their meaning).

    Symbols: ``D`` = ``d_model``, ``M`` = ``n_units``, ``N`` = ``n_neurons``, ``P`` =
    ``n_ports``, ``T`` = ``n_rounds``, ``k`` = ``n_links``, ``r`` = ``readout_rank``,
    ``W`` = ``cycle_length``.

    Examples
    --------
    >>> CircuitConfig(n_ports=8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: n_ports=8 exceeds n_neurons=6: ports are neurons of a unit, ...
    """

    d_model: int = 64
    n_units: int = 4
    n_neurons: int = 6
    n_ports: int = 3
    n_rounds: int = 2
    n_heads: int = 4
    n_links: int = 1
    patch_len: int = 16
    stride: int = 8
    motifs: tuple[str, ...] = MOTIFS
    readout: ReadoutKind = "all"
    readout_rank: int | None = 64
    readout_steps: int | None = None
    ff_mult: int = 2
    dropout: float = 0.1
    wiring_seed: int = 0
    linear_skip: bool = True
    cycle_length: int | None = None
    linear_gain: float = 1.0
    cycle_gain: float | None = None
    cycle_init: CycleInit = "mean"
    readout_init: ReadoutInit = "zero"
    linear_init: LinearInit = "random"
    variable_exchange: bool = False

    def __post_init__(self) -> None:
        for name in (
            "d_model",
            "n_units",
            "n_neurons",
            "n_ports",
            "n_rounds",
            "n_heads",
            "patch_len",
            "stride",
            "ff_mult",
        ):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not _is_int(self.n_links) or self.n_links < 0:
            raise ValueError(f"n_links must be an integer >= 0, got {self.n_links!r}.")
        if self.readout_rank is not None and (
            not _is_int(self.readout_rank) or self.readout_rank < 1
        ):
            raise ValueError(
                f"readout_rank must be a positive integer or None (a full linear read-out), "
                f"got {self.readout_rank!r}."
            )
        if self.readout_steps is not None and (
            not _is_int(self.readout_steps) or self.readout_steps < 1
        ):
            raise ValueError(
                "readout_steps must be a positive integer or None (as many steps as the "
                f"lookback), got {self.readout_steps!r}."
            )
        if self.cycle_length is not None and (
            not _is_int(self.cycle_length) or self.cycle_length < 2
        ):
            raise ValueError(
                "cycle_length must be an integer >= 2 (the steps of one cycle, e.g. 24 for a "
                f"daily cycle of hourly data) or None (no learned cycle), got "
                f"{self.cycle_length!r}."
            )
        if self.cycle_gain is None:
            # a cycle that starts in place learns at the model's rate; from zero it needs
            # CycleNet's ten times faster rate to get there
            object.__setattr__(self, "cycle_gain", 1.0 if self.cycle_init == "mean" else CYCLE_GAIN)
        for name, meaning in (
            ("linear_gain", "the linear path"),
            ("cycle_gain", "the learned cycle"),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, int | float) and value > 0):
                raise ValueError(
                    f"{name} must be a positive number (1: {meaning} learns at the model's "
                    f"learning rate), got {value!r}."
                )
        if self.n_ports > self.n_neurons:
            raise ValueError(
                f"n_ports={self.n_ports} exceeds n_neurons={self.n_neurons}: ports are neurons "
                "of a unit, so choose n_ports <= n_neurons."
            )
        motifs = normalize_motifs(self.motifs)
        if "attention" in motifs and self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads} when the "
                "attention motif is used."
            )
        if self.cycle_init not in CYCLE_INITS:
            raise ValueError(f"cycle_init={self.cycle_init!r} is not one of {CYCLE_INITS}.")
        if self.readout not in READOUTS:
            raise ValueError(f"readout={self.readout!r} is not one of {READOUTS}.")
        if self.readout_init not in READOUT_INITS:
            raise ValueError(f"readout_init={self.readout_init!r} is not one of {READOUT_INITS}.")
        if self.linear_init not in LINEAR_INITS:
            raise ValueError(f"linear_init={self.linear_init!r} is not one of {LINEAR_INITS}.")
        if self.linear_init != "random" and not self.linear_skip:
            raise ValueError(
                f"linear_init={self.linear_init!r} starts the linear path, which "
                "linear_skip=False turns off: drop linear_init or keep linear_skip=True."
            )
        if isinstance(self.dropout, bool) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not isinstance(self.variable_exchange, bool | np.bool_):
            raise ValueError(
                f"variable_exchange must be True or False, got {self.variable_exchange!r}."
            )
        if self.variable_exchange and self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads} when "
                "variable_exchange=True (its attention uses the same heads)."
            )
        # canonical, hashable values
        object.__setattr__(self, "motifs", motifs)
        object.__setattr__(self, "n_links", int(self.n_links))
        object.__setattr__(self, "linear_skip", bool(self.linear_skip))
        object.__setattr__(self, "variable_exchange", bool(self.variable_exchange))

    @property
    def read_neurons(self) -> int:
        """Neurons per unit that the read-out reads (``N`` or ``P``)."""
        return self.n_neurons if self.readout == "all" else self.n_ports

    def circuit_steps(self, lookback: int, horizon: int) -> int:
        """Steps of the horizon the circuit's read-out forecasts (the first ones).

        With the linear path, the circuit corrects the first ``readout_steps`` steps (by
        default as many as the lookback holds) and the linear path alone forecasts the rest;
        without it, the circuit forecasts the whole horizon.
        """
        if not self.linear_skip:
            return horizon
        return min(horizon, self.readout_steps or lookback)

    def as_dict(self) -> dict:
        """The configuration as plain keyword arguments."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> CircuitConfig:
        """A configuration from :meth:`as_dict`'s keywords, saved by this or an older version
        (fields it lacks take :data:`LEGACY_VALUES`, then the defaults)."""
        return cls(**{**LEGACY_VALUES, **data})

    def __setstate__(self, state: dict) -> None:
        # unpickling (a saved model): fields added since it was saved take the value that
        # model was trained with, not today's default
        for name, value in {**LEGACY_VALUES, **state}.items():
            object.__setattr__(self, name, value)
