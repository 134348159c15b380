"""The ONNX file: a trained CircuitNet as an ONNX graph, run by ONNX Runtime without torch.

``cnforecast fit`` writes ``network.onnx`` beside ``network.pt`` when the ``onnx`` extra is
installed (``pip install 'cnforecast[onnx]'``: the ``onnx`` and ``onnxruntime`` packages).
The graph maps ``target`` ``(batch, L, C)`` float32 windows in the units the model was
trained on to the ``forecast`` ``(batch, H, C)``, reversible instance normalisation
included; the batch size is free. A network with a learned cycle (``cycle_length``) also
takes ``phase`` ``(batch,)`` int64, the step of the cycle at each window's first step. Its
metadata (:data:`FORMAT_NAME`, the format version, ``L``, ``H``, ``C``, ``cycle_length``,
0 for none) is checked on reading. :func:`save_onnx` verifies the export: ONNX
Runtime's forecasts of a few windows must match torch's, or nothing is written.

Reading needs ``onnxruntime`` only (import: about 0.1 s, against 1.3 to 2.3 s for torch on
this project's 2-core machine), which is why ``predict`` and ``forecast-batch`` prefer it:
see :mod:`cnforecast.jobs.engines`. An ONNX file holds a graph and weights, never code.
"""

from __future__ import annotations

import importlib.util
import io
import os
import warnings
from pathlib import Path

import numpy as np

from cnforecast.engine.provenance import atomic_file
from cnforecast.inference.errors import NetworkFileError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "OnnxRunner",
    "onnx_export_available",
    "onnxruntime_available",
    "save_onnx",
]

FORMAT_NAME = "cnforecast-onnx"
#: Bumped whenever the graph's inputs, outputs or metadata change meaning.
FORMAT_VERSION = 1
#: The ONNX operator set the graph is written in (ONNX Runtime 1.14 and later run it).
OPSET = 17
#: Largest difference allowed between ONNX Runtime's and torch's forecasts of the same
#: windows (float32, values in units of the training data's scale).
TOLERANCE = 1e-4

_INSTALL = "install the onnx extra: pip install 'cnforecast[onnx]'"


def onnx_export_available() -> bool:
    """Whether :func:`save_onnx` can run here (``onnx`` and ``onnxruntime`` installed)."""
    return all(importlib.util.find_spec(name) for name in ("onnx", "onnxruntime"))


def onnxruntime_available() -> bool:
    """Whether an ONNX file can be read here (``onnxruntime`` installed)."""
    return importlib.util.find_spec("onnxruntime") is not None


def save_onnx(network, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Export a trained float32 point-forecast network to ``path`` (atomically), verified.

    Parameters
    ----------
    network
        A :class:`~cnforecast.layers.network.CircuitNetwork` without covariates and without
        a likelihood, in float32.
    path
        Where to write the ONNX file.
    overwrite
        Replace an existing file.

    Raises
    ------
    ValueError
        For a network the ONNX file cannot hold (covariates, a likelihood, float64).
    ImportError
        When ``onnx`` or ``onnxruntime`` is not installed.
    NetworkFileError
        When ONNX Runtime's forecasts differ from torch's (nothing is written).
    """
    import copy

    import torch

    from cnforecast.inference.torch_runner import TorchRunner, check_point_network

    check_point_network(network)
    if next(network.parameters()).dtype != torch.float32:
        raise ValueError(
            "the ONNX file holds float32 networks; this network is not float32: export "
            "network.float() (its forecasts then differ from the model's in the 7th digit)"
        )
    if not onnx_export_available():
        raise ImportError(f"exporting to ONNX needs the onnx and onnxruntime packages: {_INSTALL}")
    import onnx

    network = copy.deepcopy(network).cpu().eval()
    shape = network.network_shape
    n_targets = network.n_targets or 1
    cycle = network.config.cycle_length or 0
    generator = torch.Generator().manual_seed(0)
    example = [torch.randn(2, shape.input_chunk_length, n_targets, generator=generator)]
    names = ["target"]
    if cycle:
        example.append(torch.tensor([0, cycle - 1]))
        names.append("phase")
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and exporter notes: the check below decides
        torch.onnx.export(
            _point_forecast(network),
            tuple(example),
            buffer,
            dynamo=False,
            input_names=names,
            output_names=["forecast"],
            dynamic_axes={name: {0: "batch"} for name in (*names, "forecast")},
            opset_version=OPSET,
        )
    graph = onnx.load_model_from_string(buffer.getvalue())
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "input_chunk_length": shape.input_chunk_length,
        "output_chunk_length": shape.output_chunk_length,
        "n_targets": n_targets,
        "cycle_length": cycle,
    }
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=str(value))
    data = graph.SerializeToString()
    # another batch size than the traced one, so that a batch baked into the graph shows
    windows = torch.randn(5, shape.input_chunk_length, n_targets, generator=generator).numpy()
    phase = np.arange(5, dtype=np.int64) * 7 % cycle if cycle else None
    expected = TorchRunner(network)(windows, phase)
    got = OnnxRunner(data)(windows, phase)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=0, atol=TOLERANCE):
        raise NetworkFileError(
            "the ONNX export of this network does not reproduce its forecasts (largest "
            f"difference {np.abs(got - expected).max() if got.shape == expected.shape else 'n/a'}"
            "); it was not written: forecast with the torch network instead"
        )
    with atomic_file(path, overwrite) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def _point_forecast(network):
    """The network as a module whose output is ``(batch, H, C)`` (the likelihood axis dropped)."""
    import torch

    class PointForecast(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = network

        def forward(self, target: torch.Tensor, phase: torch.Tensor | None = None) -> torch.Tensor:
            return self.inner(target, phase=phase)[..., 0]

    return PointForecast()


class OnnxRunner:
    """``(b, L, C)`` windows -> ``(b, H, C)`` point forecasts through ONNX Runtime (CPU).

    Parameters
    ----------
    source
        The ONNX file, or its bytes.
    threads
        ONNX Runtime's intra-op threads; by default ``OMP_NUM_THREADS`` when it is set (as
        torch reads it, and as Ray sets it for its workers), else ONNX Runtime's choice.

    Raises
    ------
    NetworkFileError
        For a missing or unreadable file, or an ONNX graph that is not a cnforecast network.
    ImportError
        When ``onnxruntime`` is not installed.
    """

    engine = "onnx"
    dtype = np.dtype(np.float32)

    def __init__(self, source: str | os.PathLike[str] | bytes, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ImportError(f"reading an ONNX network needs onnxruntime: {_INSTALL}") from None
        where = "the ONNX export" if isinstance(source, bytes) else str(source)
        if not isinstance(source, bytes):
            if not Path(source).is_file():
                raise NetworkFileError(f"ONNX file {where!r} does not exist")
            source = str(source)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        if threads > 0:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                source, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for every bad file
            raise NetworkFileError(f"{where} is not a readable ONNX network: {exc}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != FORMAT_NAME:
            raise NetworkFileError(f"{where} is not a cnforecast ONNX network")
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise NetworkFileError(
                f"{where} has ONNX format {meta.get('format_version')}; this cnforecast reads "
                f"format {FORMAT_VERSION}: train the model again with this version"
            )
        try:
            self.input_chunk_length = int(meta["input_chunk_length"])
            self.output_chunk_length = int(meta["output_chunk_length"])
            self.n_targets = int(meta["n_targets"])
            self.cycle_length = int(meta.get("cycle_length", "0")) or None
        except (KeyError, ValueError) as exc:
            raise NetworkFileError(f"{where} is corrupted: bad metadata ({exc})") from None

    def __call__(self, windows: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
        feed = {"target": np.ascontiguousarray(windows, dtype=self.dtype)}
        if self.cycle_length:
            feed["phase"] = np.ascontiguousarray(phase, dtype=np.int64)
        return self.session.run(None, feed)[0]
