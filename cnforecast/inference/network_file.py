"""The network file: a trained CircuitNet's layers as tensors and plain values.

A network file (``network.pt`` in a model directory, see :mod:`cnforecast.jobs.manifest`) is
a ``torch.save`` of one dictionary:

``format``, ``format_version``
    ``"cnforecast-network"`` and :data:`FORMAT_VERSION`.
``config``
    The :class:`~cnforecast.layers.config.CircuitConfig` fields.
``shape``
    The :class:`~cnforecast.layers.network.NetworkShape` fields (chunk lengths, covariate
    widths, likelihood parameters).
``n_targets``, ``instance_norm``
    Target components, and the reversible instance normalisation settings (``None``: none).
``dtype``
    ``"float32"`` or ``"float64"``: the precision the model was trained in.
``state_dict``
    The weights of :class:`~cnforecast.layers.network.CircuitNetwork`.

It is read with ``torch.load(weights_only=True)``: tensors and plain values only, so
reading a file never runs code from it (unlike unpickling a darts model).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from cnforecast.engine.provenance import atomic_file
from cnforecast.inference.errors import NetworkFileError
from cnforecast.layers.config import CircuitConfig
from cnforecast.layers.network import CircuitNetwork, NetworkShape

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "NetworkFileError",
    "load_network",
    "network_record",
    "save_network",
]

FORMAT_NAME = "cnforecast-network"
#: Bumped whenever the meaning of a field changes.
FORMAT_VERSION = 1

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def network_record(network: CircuitNetwork) -> dict[str, Any]:
    """The dictionary :func:`save_network` writes."""
    rin = network.rin
    dtype = next(network.parameters()).dtype
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": {
            k: list(v) if isinstance(v, tuple) else v for k, v in network.config.as_dict().items()
        },
        "shape": network.network_shape.to_dict(),
        "n_targets": network.n_targets,
        "instance_norm": None if rin is None else {"eps": rin.eps, "affine": rin.affine},
        "dtype": next(name for name, value in _DTYPES.items() if value == dtype),
        "state_dict": {k: v.detach().cpu() for k, v in network.state_dict().items()},
    }


def save_network(
    network: CircuitNetwork, path: str | os.PathLike[str], overwrite: bool = False
) -> Path:
    """Write ``network`` to ``path`` atomically; return ``path``."""
    with atomic_file(path, overwrite) as tmp:
        torch.save(network_record(network), tmp)
    return Path(path)


def load_network(path: str | os.PathLike[str], map_location: str = "cpu") -> CircuitNetwork:
    """Read a network file; the network comes back in evaluation mode.

    Raises
    ------
    NetworkFileError
        For a missing or unreadable file, another format, or weights that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"network file {str(path)!r} does not exist")
    try:
        record = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated, not a torch file, or holds more than weights
        raise NetworkFileError(f"{path} is not a readable network file: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT_NAME:
        raise NetworkFileError(f"{path} is not a cnforecast network file")
    if record.get("format_version") != FORMAT_VERSION:
        raise NetworkFileError(
            f"{path} has network format {record.get('format_version')}; this cnforecast reads "
            f"format {FORMAT_VERSION}: export the network again with this version"
        )
    try:
        config = CircuitConfig.from_dict(
            {k: tuple(v) if isinstance(v, list) else v for k, v in record["config"].items()}
        )
        network = CircuitNetwork(
            config,
            NetworkShape.from_dict(record["shape"]),
            n_targets=record["n_targets"],
            instance_norm=record["instance_norm"],
        )
        network.to(_DTYPES[record["dtype"]])
        network.load_state_dict(record["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise NetworkFileError(f"{path} is corrupted: {exc}") from None
    return network.to(map_location).eval()
