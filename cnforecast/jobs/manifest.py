"""Model directories: the saved darts model plus a ``manifest.json`` that describes it.

A model directory holds

``model.pt``, ``model.pt.ckpt``
    The darts model, saved with ``model.save(path, clean=True)`` (no training data, no
    Trainer settings) and loaded with darts' safe loader.
``network.pt``
    CircuitNet only: the trained layers as tensors and plain values
    (:mod:`cnforecast.inference.network_file`), read back without darts or Lightning and
    without unpickling code; ``predict`` and ``forecast-batch`` forecast with it when the
    model has no covariates and no likelihood (:func:`load_network_dir`).
``network.onnx``
    The same network as an ONNX graph (:mod:`cnforecast.inference.onnx_file`), written
    when the ``onnx`` extra is installed; run by ONNX Runtime without torch. Which of the
    three predicts is decided by :func:`cnforecast.jobs.engines.resolve_engine`.
``manifest.json``
    Everything needed to use the model on new data: the format version, the cnforecast,
    darts, torch and Python versions that wrote it, the model name, class and parameters,
    the data columns and frequency, the fitted scaler (means and standard deviations as
    plain numbers), the SHA-256 of the training data and of the model files, the creation
    time and the resolved training configuration.

Loading checks the format version, the darts version (a model pickled by another darts
minor version may not load) and the SHA-256 of the model files, and raises
:class:`~cnforecast.jobs.errors.ModelDirError` with an explanation when any check fails.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnforecast.engine.provenance import (
    UNKNOWN_VERSION,
    atomic_directory,
    atomic_write_text,
    package_versions,
    sha256_file,
    to_jsonable,
)
from cnforecast.jobs.errors import ModelDirError
from cnforecast.jobs.forecaster import Forecaster
from cnforecast.jobs.scaling import BundleScaler
from cnforecast.jobs.tabular import ColumnSpec
from cnforecast.settings import loss_setting

if TYPE_CHECKING:
    from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel

logger = logging.getLogger(__name__)

FORMAT_NAME = "cnforecast-model"
#: Bumped whenever the layout or the meaning of a manifest field changes.
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.pt"
CHECKPOINT_FILE = MODEL_FILE + ".ckpt"
#: The darts-free network (:mod:`cnforecast.inference.network_file`), CircuitNet only.
NETWORK_FILE = "network.pt"
#: The same network as an ONNX graph (:mod:`cnforecast.inference.onnx_file`).
ONNX_FILE = "network.onnx"


#: What :func:`load_model_dir` returns (the name of earlier versions).
LoadedModel = Forecaster


def versions() -> dict[str, str]:
    """The versions that matter for reading a model directory back."""
    found = package_versions()
    return {
        "cnforecast": found["cnforecast"] or UNKNOWN_VERSION,
        "darts": found["darts"] or UNKNOWN_VERSION,
        "torch": found["torch"] or UNKNOWN_VERSION,
        "python": found["python"] or UNKNOWN_VERSION,
    }


def _jsonable(value: Any) -> Any:
    # the manifest's long-standing form: objects that are not JSON values as their repr
    return to_jsonable(value, describe=repr)


def build_manifest(
    *,
    model: TorchForecastingModel,
    model_name: str,
    columns: ColumnSpec,
    freq: str | int,
    scaler: BundleScaler | None,
    config: dict[str, Any],
    data_sha256: str,
    data_source: str,
    n_series: int,
    tz: str | None = None,
) -> dict[str, Any]:
    """The manifest record of a freshly trained model (file hashes are added on save).

    ``tz`` is the time zone of the training times (``None``: times without one); predictions
    on data with a time zone where the model had none, or the other way round, are refused.
    """
    params = {k: v for k, v in model.model_params.items() if k != "pl_trainer_kwargs"}
    if params.get("loss_fn") is not None:  # as a config names it, arguments included
        params["loss_fn"] = loss_setting(params["loss_fn"])
    cls = type(model)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "model": {
            "name": model_name,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "file": MODEL_FILE,
            "input_chunk_length": int(model.input_chunk_length),
            "output_chunk_length": int(model.output_chunk_length),
            "probabilistic": bool(model.supports_probabilistic_prediction),
            "params": _jsonable(params),
        },
        "data": {
            "columns": columns.to_dict(),
            "freq": freq,
            "tz": tz,
            "n_series": n_series,
            "source": data_source,
            "sha256": data_sha256,
        },
        "scaler": scaler.to_dict() if scaler is not None else None,
        "config": _jsonable(config),
        "files": {},
    }


def save_model_dir(
    model: TorchForecastingModel,
    manifest: dict[str, Any],
    out: str | os.PathLike[str],
    overwrite: bool = False,
) -> Path:
    """Write a model directory atomically; return its path.

    The darts model is saved without training data or Trainer settings, and
    ``manifest.json`` is written last with the SHA-256 of the model files.
    """
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite, marker=MANIFEST_FILE) as tmp:
        model.save(str(tmp / MODEL_FILE), clean=True)
        _save_network(model, tmp)
        files = {
            name: sha256_file(tmp / name)
            for name in (MODEL_FILE, CHECKPOINT_FILE, NETWORK_FILE, ONNX_FILE)
            if (tmp / name).exists()
        }
        if CHECKPOINT_FILE not in files:
            raise ModelDirError("the model has no weights to save: was it trained?")
        # the model record names the network files this directory holds, and no others
        model_record = {k: v for k, v in manifest["model"].items() if k not in ("network", "onnx")}
        for key, name in (("network", NETWORK_FILE), ("onnx", ONNX_FILE)):
            if name in files:
                model_record[key] = name
        record = {**manifest, "model": model_record, "files": files}
        atomic_write_text(tmp / MANIFEST_FILE, json.dumps(record, indent=2) + "\n")
    logger.info("saved the model to %s", out)
    return out


def _save_network(model: TorchForecastingModel, folder: Path) -> None:
    """Write the darts-free network of a model that can export one, and its ONNX graph.

    The ONNX graph is written for a float32 point-forecast network without covariates when
    the ``onnx`` extra is installed. An export that fails is logged and skipped: the
    trained model is never lost for it (the torch network predicts instead).
    """
    export = getattr(model, "export_network", None)
    if export is None or getattr(model, "model", None) is None:
        return
    from cnforecast.inference.network_file import save_network
    from cnforecast.inference.onnx_file import save_onnx

    network = export()
    save_network(network, folder / NETWORK_FILE)
    try:
        save_onnx(network, folder / ONNX_FILE)
    except (ValueError, ImportError) as exc:  # a network the file cannot hold; no onnx extra
        logger.info("no network.onnx: %s", exc)
    except Exception as exc:  # the exporter fails in many ways; the model itself is saved
        logger.warning("network.onnx was not written (%s: %s)", type(exc).__name__, exc)


def save_on_other_rank(model: TorchForecastingModel) -> None:
    """Take part in a distributed save without writing anything (ranks other than 0).

    Lightning's checkpointing is a collective operation: every process of a DDP run must
    call it, and only rank 0 writes the checkpoint.
    """
    with tempfile.TemporaryDirectory() as tmp:
        model.save(str(Path(tmp) / MODEL_FILE), clean=True)


def read_manifest(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``manifest.json`` of a model directory (format and versions)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelDirError(f"model directory {str(model_dir)!r} does not exist")
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        raise ModelDirError(
            f"{str(model_dir)!r} is not a cnforecast model directory: it has no {MANIFEST_FILE} "
            "(create one with `cnforecast fit ... --out DIR`)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"{path} is corrupted (not valid JSON: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelDirError(f"{path} is not a cnforecast model manifest")
    written_by = manifest.get("versions", {})
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelDirError(
            f"{str(model_dir)!r} was written by cnforecast {written_by.get('cnforecast', '?')} "
            f"in model-directory format {version}; this cnforecast "
            f"({versions()['cnforecast']}) reads format {FORMAT_VERSION}. Train the model again "
            "with this version, or use the cnforecast version that wrote it"
        )
    saved_darts = str(written_by.get("darts", "?"))
    darts_version = versions()["darts"]
    if saved_darts.split(".")[:2] != darts_version.split(".")[:2]:
        raise ModelDirError(
            f"{str(model_dir)!r} was saved with darts {saved_darts}, but darts "
            f"{darts_version} is installed; darts models are not portable across darts "
            f"versions. Install darts=={saved_darts} or train the model again"
        )
    for name in ("cnforecast", "torch"):
        if written_by.get(name) != versions()[name]:
            logger.warning(
                "%s was written with %s %s; %s is installed",
                model_dir,
                name,
                written_by.get(name),
                versions()[name],
            )
    for key in ("model", "data", "files"):
        if not isinstance(manifest.get(key), dict):
            raise ModelDirError(f"{path} is corrupted: the {key!r} record is missing")
    return manifest


def _checked_manifest(model_dir: Path) -> dict[str, Any]:
    """The manifest of ``model_dir``, after checking every listed file against its SHA-256."""
    manifest = read_manifest(model_dir)
    for name, expected in manifest["files"].items():
        path = model_dir / name
        if not path.is_file():
            raise ModelDirError(f"{str(model_dir)!r} is incomplete: {name} is missing")
        if sha256_file(path) != expected:
            raise ModelDirError(
                f"{path} is corrupted: its SHA-256 differs from the one in {MANIFEST_FILE}"
            )
    if CHECKPOINT_FILE not in manifest["files"]:
        raise ModelDirError(f"{model_dir / MANIFEST_FILE} lists no model weights")
    return manifest


def _forecaster(model: Any, manifest: dict[str, Any], model_dir: Path) -> Forecaster:
    """``model`` with the columns, frequency and scaler of the manifest."""
    try:
        columns = ColumnSpec.from_dict(manifest["data"]["columns"])
        scaler = BundleScaler.from_dict(manifest["scaler"]) if manifest.get("scaler") else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelDirError(f"{model_dir / MANIFEST_FILE} is corrupted: {exc}") from None
    return Forecaster(
        model=model,
        columns=columns,
        freq=manifest["data"]["freq"],
        scaler=scaler,
        manifest=manifest,
        path=model_dir,
    )


def load_network_dir(
    model_dir: str | os.PathLike[str], accelerator: str = "auto", engine: str = "auto"
) -> Forecaster | None:
    """A model directory loaded for darts-free prediction, or ``None`` where it cannot be.

    The forecaster predicts with :class:`~cnforecast.inference.predictor.NetworkPredictor`
    through ONNX Runtime (``network.onnx``: no torch) or torch (``network.pt``), as
    :func:`~cnforecast.jobs.engines.resolve_engine` decides for ``engine`` and
    ``accelerator``; neither darts' models nor Lightning are imported, and the forecasts are
    the darts model's. ``None`` where the darts model predicts (a model other than
    CircuitNet, one with covariates or a likelihood, or a directory written before network
    files existed): load it with :func:`load_model_dir`. It cannot backtest.

    Raises
    ------
    ModelDirError
        For a missing, corrupted or incompatible directory or network file, or an engine
        insisted on that the directory or this installation lacks.
    """
    from cnforecast.jobs.engines import resolve_engine

    model_dir = Path(model_dir)
    manifest = _checked_manifest(model_dir)
    chosen = resolve_engine(manifest, engine, accelerator, repr(str(model_dir)))
    if chosen == "darts":
        return None
    from cnforecast.inference import NetworkFileError, NetworkPredictor

    try:
        if chosen == "onnx":
            from cnforecast.inference import OnnxRunner

            predictor = NetworkPredictor(OnnxRunner(model_dir / manifest["model"]["onnx"]))
        else:
            from cnforecast.inference import inference_device, load_network

            network = load_network(model_dir / manifest["model"]["network"], map_location="cpu")
            predictor = NetworkPredictor(network, inference_device(accelerator))
    except NetworkFileError as exc:
        raise ModelDirError(str(exc)) from None
    except ValueError as exc:
        if engine != "auto":
            where = repr(str(model_dir))
            raise ModelDirError(f"{where}: the {engine} engine cannot run: {exc}") from None
        logger.info("%s: the darts model predicts (%s)", model_dir, exc)
        return None
    return _forecaster(predictor, manifest, model_dir)


def load_model_dir(
    model_dir: str | os.PathLike[str],
    pl_trainer_kwargs: dict[str, Any] | None = None,
    map_location: str = "cpu",
) -> Forecaster:
    """Load a model directory written by :func:`save_model_dir`.

    Parameters
    ----------
    model_dir
        The directory.
    pl_trainer_kwargs
        Lightning Trainer settings for prediction (e.g. ``{"accelerator": "gpu"}``).
    map_location
        Where to load the weights first; Lightning moves them to the accelerator.

    Raises
    ------
    ModelDirError
        For a missing, corrupted or incompatible directory.
    """
    from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel

    model_dir = Path(model_dir)
    manifest = _checked_manifest(model_dir)
    class_path = str(manifest["model"].get("class", ""))
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise ModelDirError(
            f"the model class {class_path!r} of {str(model_dir)!r} cannot be imported here"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, TorchForecastingModel)):
        raise ModelDirError(f"{class_path!r} is not a darts torch forecasting model")
    try:
        model = cls.load(
            str(model_dir / MODEL_FILE),
            pl_trainer_kwargs=pl_trainer_kwargs,
            map_location=map_location,
        )
    except Exception as exc:  # unpickling raises many types; all mean "cannot use this file"
        raise ModelDirError(f"cannot load the model in {str(model_dir)!r}: {exc}") from exc
    return _forecaster(model, manifest, model_dir)
