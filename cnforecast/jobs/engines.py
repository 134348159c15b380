"""Which engine predicts with a model directory: one rule, for the jobs and the command line.

Three engines give the same forecasts of a CircuitNet trained without covariates and
without a likelihood (tested in ``tests/test_inference.py`` and ``tests/test_engines.py``):

``onnx``
    ``network.onnx`` run by ONNX Runtime on the CPU: neither torch nor darts' models are
    imported, the fastest start (the file is written by ``cnforecast fit`` when the
    ``onnx`` extra is installed);
``network``
    ``network.pt`` run by torch, on any device;
``darts``
    the darts model: any model, covariates and likelihoods included, and the only engine
    that backtests.

``auto`` (the default of ``predict`` and ``forecast-batch``) takes the first of these the
directory and the installed packages allow; ``onnx`` only where the accelerator asked for
is the CPU (``auto`` or ``cpu``): with ``--accelerator gpu`` it takes the torch network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from cnforecast.jobs.errors import ModelDirError

__all__ = ["ENGINES", "Engine", "engine_of_dir", "resolve_engine"]

#: What predicts: see the module's documentation.
Engine = Literal["auto", "darts", "network", "onnx"]
ENGINES: tuple[str, ...] = ("auto", "darts", "network", "onnx")

_CPU_ACCELERATORS = ("auto", "cpu")


def _serves_network(manifest: dict[str, Any]) -> bool:
    """Whether the model can predict without darts: a network file, no covariates, no
    likelihood."""
    model, files = manifest.get("model", {}), manifest.get("files", {})
    columns = manifest.get("data", {}).get("columns", {})
    return bool(
        model.get("network") in files
        and not model.get("probabilistic")
        and not columns.get("past_covariates")
        and not columns.get("future_covariates")
    )


def resolve_engine(
    manifest: dict[str, Any],
    engine: str = "auto",
    accelerator: str = "auto",
    where: str = "the model directory",
) -> Literal["darts", "network", "onnx"]:
    """The engine that predicts with the model directory of ``manifest``.

    Raises
    ------
    ValueError
        For an unknown engine name.
    ModelDirError
        When ``engine`` insists on an engine the directory or this installation lacks.

    Examples
    --------
    >>> resolve_engine({"model": {}, "files": {}})
    'darts'
    """
    from cnforecast.inference.onnx_file import onnxruntime_available

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine == "darts":
        return "darts"
    network = _serves_network(manifest)
    onnx = network and manifest["model"].get("onnx") in manifest["files"]
    on_cpu = (accelerator or "auto").lower() in _CPU_ACCELERATORS
    if engine == "onnx":
        if not onnx:
            raise ModelDirError(
                f"{where} has no ONNX network (`cnforecast fit` writes network.onnx for a "
                "CircuitNet without covariates or likelihood when the onnx extra is "
                "installed: pip install 'cnforecast[onnx]'): use --engine auto, or train "
                "the model again with the extra installed"
            )
        if not onnxruntime_available():
            raise ModelDirError(
                "--engine onnx needs onnxruntime, which is not installed: pip install "
                "'cnforecast[onnx]', or use --engine auto"
            )
        if not on_cpu:
            raise ModelDirError(
                f"the onnx engine runs on the CPU, not on accelerator {accelerator!r}: drop "
                "--accelerator, or use --engine network to predict on it"
            )
        return "onnx"
    if engine == "network":
        if not network:
            raise ModelDirError(
                f"{where} has no darts-free network for this model (only CircuitNet models "
                "without covariates or likelihood have one, in model directories written "
                "since network.pt exists): use --engine darts, or train the model again to "
                "get one"
            )
        return "network"
    if onnx and on_cpu and onnxruntime_available():
        return "onnx"
    return "network" if network else "darts"


def engine_of_dir(
    model_dir: str | os.PathLike[str], engine: str = "auto", accelerator: str | None = "auto"
) -> str:
    """The engine that will predict with ``model_dir``, from its ``manifest.json`` alone.

    For the command line, to import only what that engine needs before the job starts
    (no pandas, torch or darts are imported here). Any problem with the directory gives
    ``"darts"``: the job reports it when it loads the directory, with all its checks.
    """
    try:
        manifest = json.loads((Path(model_dir) / "manifest.json").read_text(encoding="utf-8"))
        return resolve_engine(manifest, engine, accelerator or "auto")
    except (OSError, ValueError, TypeError, AttributeError, ModelDirError):
        return "darts"
