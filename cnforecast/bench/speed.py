"""Speed and scale on the device at hand: every measurement of issue 9 in one run.

``cnforecast bench speed`` runs, on one device (a GPU when there is one, else the CPU), with
sizes that fit that device (:data:`SIZES`):

``module_step``
    The bare torch module (no darts, no Lightning): forward + backward + Adam on random
    ``(B, L, C)`` batches; milliseconds a step at several ``B``, CircuitNet and DLinear (on
    a GPU also CircuitNet through ``torch.compile``).
``throughput``
    Training through darts at ``B = 32``: windows/s of CircuitNet, the darts Transformer
    (the registry's literature size) and DLinear on the same windows
    (:func:`cnforecast.bench.throughput.measure_throughput`); ``ratio`` is to the
    Transformer.
``data_path``
    CircuitNet trained through ``fit`` on the same windows, once on darts' own training
    dataset and once on :class:`~cnforecast.models.windows.WindowDataset` (the default);
    on a GPU also with the windows cut on the GPU. ``ratio`` is to darts' dataset.
``large_batch`` / ``wide_series``
    Training (one epoch of two batches) and prediction (one batch) at a large batch on 7
    components, and at ``B = 32`` on a wide series (Traffic's 862 components on a GPU);
    peak memory of each.
``test_windows``
    Every test window of the split forecast through ``historical_forecasts`` (seconds).
``many_series``
    ``predict`` on many short hourly series (series/s); for CircuitNet also its darts-free
    network (:class:`~cnforecast.inference.predictor.NetworkPredictor`, what the jobs
    use), with its ``ratio`` to darts' ``predict``.

Each measurement writes one JSON record (:data:`SPEED_FIELDS`) with the device, the package
versions and the git commit; a measurement that fails is recorded as ``failed`` and the
others still run. Timings depend on the machine and its load: compare records of one run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import torch
from darts import TimeSeries

from cnforecast.bench.config import ModelConfig
from cnforecast.bench.records import WHERE_FIELDS, fill_record
from cnforecast.bench.throughput import measure_throughput
from cnforecast.engine import devices, training
from cnforecast.engine.evaluation import SplitLike, count_windows, rolling_forecasts
from cnforecast.models.registry import get_model_spec

__all__ = [
    "MEASURES",
    "SCHEMA",
    "SIZES",
    "SPEED_FIELDS",
    "SpeedSizes",
    "default_sizes",
    "measure_speed",
    "speed_table",
]

logger = logging.getLogger(__name__)

#: Identifies the layout of a speed record; bump when fields change meaning.
SCHEMA = "cnforecast.bench.speed/1"

#: The measurements, in the order they run.
MEASURES: tuple[str, ...] = (
    "module_step",
    "throughput",
    "data_path",
    "large_batch",
    "wide_series",
    "test_windows",
    "many_series",
)

#: The fields of every speed record, in the order they are written.
SPEED_FIELDS: tuple[str, ...] = (
    "schema",
    "status",
    "error",
    "started_at",
    # what ran
    "measure",
    "label",
    "model",
    "sizes",
    "dataset",
    "lookback",
    "horizon",
    "batch_size",
    "n_components",
    "n_windows",
    "n_series",
    "n_params",
    "seed",
    # what was measured
    "ms_per_step",
    "windows_per_second",
    "train_seconds",
    "predict_seconds",
    "series_per_second",
    "peak_memory_mib",
    "peak_memory_kind",
    "reference",
    "ratio",
    # where
    *WHERE_FIELDS,
)


@dataclass(frozen=True)
class SpeedSizes:
    """The sizes of one run of :func:`measure_speed`.

    Parameters
    ----------
    name
        Recorded in every record (``"gpu"``, ``"cpu"``, ``"tiny"`` or yours).
    preset
        Model sizes: ``"default"`` (registry, literature sizes) or ``"test"`` (small).
    module_batches
        Batch sizes of the bare-module step.
    module_steps
        Timed steps at each batch size (after 3 warm-up steps).
    throughput_windows, throughput_epochs
        Training windows per epoch and epochs (the first is warm-up) of ``throughput`` and
        ``data_path``.
    large_batch
        Batch size of ``large_batch`` (7 components).
    wide_components, wide_batch
        Components and batch size of ``wide_series``.
    test_windows
        Test windows forecast by ``test_windows``; ``None``: every one.
    many_series
        Series predicted by ``many_series``.
    predict_batch
        Batch size of prediction in ``test_windows`` and ``many_series``.
    predict_repeats
        Timed passes of ``test_windows`` and ``many_series``; the fastest is kept (the first
        also sets Lightning's predictor up).
    """

    name: str
    preset: str = "default"
    module_batches: tuple[int, ...] = (32, 256)
    module_steps: int = 20
    throughput_windows: int = 256
    throughput_epochs: int = 2
    large_batch: int = 512
    wide_components: int = 64
    wide_batch: int = 32
    test_windows: int | None = None
    many_series: int = 1000
    predict_batch: int = 256
    predict_repeats: int = 1


#: Sizes for a GPU (issue 9's sizes), for the CPU (under 5 minutes a measurement on two
#: cores) and for tests.
SIZES: dict[str, SpeedSizes] = {
    "gpu": SpeedSizes(
        name="gpu",
        module_batches=(32, 256, 1024, 4096),
        module_steps=50,
        throughput_windows=2048,
        large_batch=4096,
        wide_components=862,
        wide_batch=32,
        many_series=3000,
        predict_batch=1024,
        predict_repeats=2,
    ),
    "cpu": SpeedSizes(name="cpu", module_steps=10),
    "tiny": SpeedSizes(
        name="tiny",
        preset="test",
        module_batches=(4,),
        module_steps=2,
        throughput_windows=16,
        large_batch=16,
        wide_components=9,
        wide_batch=4,
        test_windows=5,
        many_series=6,
        predict_batch=4,
    ),
}

#: The models of ``throughput``, with the one the ratios are taken to.
THROUGHPUT_MODELS: tuple[str, ...] = ("circuitnet", "transformer", "dlinear")
THROUGHPUT_REFERENCE = "transformer"
#: The models of ``module_step``, ``test_windows`` and ``many_series``.
COMPARED: tuple[str, ...] = ("circuitnet", "dlinear")
#: The batch size of ``throughput``, ``data_path`` and ``wide_series``.
BATCH_SIZE = 32


def default_sizes(accelerator: str) -> SpeedSizes:
    """:data:`SIZES` ``"gpu"`` on a GPU accelerator, else ``"cpu"``."""
    return SIZES["gpu" if accelerator in ("gpu", "cuda") else "cpu"]


# ---------------------------------------------------------------------------------------
# helpers


class _PeakMemory:
    """Peak memory of a block: CUDA's allocator peak on a GPU, sampled RSS on the CPU.

    On the CPU the process's resident set size is read every 5 ms in a thread
    (``/proc/self/statm``; ``ru_maxrss`` where it is missing, which cannot be reset).
    """

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.mib: float | None = None
        self.kind = ""
        self._stop = threading.Event()
        self._peak = 0
        self._thread: threading.Thread | None = None

    @staticmethod
    def _rss() -> int | None:
        try:
            with open("/proc/self/statm", encoding="ascii") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._rss() or 0)

    def __enter__(self) -> _PeakMemory:
        if self.cuda:
            torch.cuda.synchronize()
            devices.reset_peak_memory()
        elif self._rss() is not None:
            self._peak = self._rss() or 0
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            self.mib, self.kind = devices.peak_memory(True)
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self._rss() or 0)
            self.mib, self.kind = self._peak / 2**20, "process peak RSS (sampled every 5 ms)"
        else:
            self.mib, self.kind = devices.peak_memory(False)


def _sync(cuda: bool) -> None:
    if cuda:
        torch.cuda.synchronize()


@contextlib.contextmanager
def _timed(cuda: bool) -> Iterator[list[float]]:
    """``with _timed(cuda) as t:`` ... ``t[0]`` is the block's wall time in seconds."""
    out: list[float] = []
    _sync(cuda)
    start = time.perf_counter()
    try:
        yield out
    finally:
        _sync(cuda)
        out.append(time.perf_counter() - start)


@dataclass
class _Run:
    """What every measurement shares."""

    split: SplitLike
    horizon: int
    sizes: SpeedSizes
    accelerator: str
    seed: int
    work_dir: str
    cuda: bool

    @property
    def lookback(self) -> int:
        return self.split.lookback

    def model(
        self,
        name: str,
        *,
        batch_size: int = BATCH_SIZE,
        epochs: int = 1,
        limit_train_batches: int | None = None,
        callbacks: Sequence[Any] = (),
        **overrides: Any,
    ):
        """A registry model at this run's preset, trained on this run's device."""
        spec = get_model_spec(name)
        kwargs = ModelConfig(name=name, preset=self.sizes.preset).resolved_kwargs(
            spec.defaults, spec.test_settings
        )
        harness = training.trainer_kwargs(
            accelerator=self.accelerator,
            devices=1,
            progress_bar=False,
            checkpointing=False,
            limit_train_batches=limit_train_batches,
            callbacks=list(callbacks),
        )
        kwargs.update(
            batch_size=batch_size,
            n_epochs=epochs,
            random_state=self.seed,
            save_checkpoints=False,
            work_dir=self.work_dir,
            model_name=f"speed-{name}",
            force_reset=True,
            **overrides,
        )
        kwargs["pl_trainer_kwargs"] = training.merge_trainer_kwargs(
            harness, kwargs.get("pl_trainer_kwargs")
        )
        return spec.create(self.lookback, self.horizon, **kwargs)

    def train_slice(self, n_windows: int) -> TimeSeries:
        rows = self.lookback + self.horizon + n_windows - 1
        if len(self.split.train) < rows:
            raise ValueError(
                f"the train series has {len(self.split.train)} rows, fewer than the {rows} "
                f"that {n_windows} windows need"
            )
        return self.split.train[:rows]


def _synthetic(n_components: int, length: int, seed: int, start: str = "2020-01-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(length)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_components)
    values = np.sin(2 * np.pi * t / 24 + phase) + 0.1 * rng.standard_normal((length, n_components))
    index = pd.date_range(start, periods=length, freq="h")
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


def _median_epoch_speed(timer: training.EpochTimer, windows: int) -> float:
    seconds = timer.train_seconds or timer.epoch_seconds
    timed = seconds[1:] if len(seconds) >= 2 else seconds
    median = statistics.median(timed)
    return windows / median if median > 0 else float("nan")


# ---------------------------------------------------------------------------------------
# the measurements; each returns (partial) records


def _train_step(module: Any, optimizer: Any, x: Any, y: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    prediction = module(x).prediction[..., 0]  # (B, H, C, R) -> (B, H, C)
    loss = torch.nn.functional.mse_loss(prediction, y)
    loss.backward()
    optimizer.step()


def _variants(
    run: _Run, names: Sequence[str], compiled: bool = False
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, registry name, kwargs)`` of each model; with ``compiled``, on a GPU, also
    CircuitNet through ``torch.compile``."""
    out = [(name, name, {}) for name in names]
    if compiled and run.cuda:
        out.insert(1, ("circuitnet (compiled)", "circuitnet", {"torch_compile": True}))
    return out


def _failed(label: str, model: str, err: Exception) -> dict[str, Any]:
    logger.error("bench speed: %s failed: %s: %s", label, type(err).__name__, err)
    return dict(status="failed", error=f"{type(err).__name__}: {err}", label=label, model=model)


def _random_phases(
    module: torch.nn.Module, batch: int, lookback: int, device: torch.device
) -> torch.Tensor | None:
    """``(B, L, 1)`` phases of random windows for a module with a learned cycle, else None
    (what darts' ``CyclePhase`` encoder gives it as its last past covariate)."""
    cycle = getattr(getattr(module, "config", None), "cycle_length", None)
    if not cycle:
        return None
    start = torch.randint(0, cycle, (batch, 1, 1), device=device)
    return ((start + torch.arange(lookback, device=device)[None, :, None]) % cycle).float()


def _module_step(run: _Run) -> list[dict[str, Any]]:
    """Bare torch module: forward + backward + Adam on random batches, ms a step."""
    from darts.utils.data.torch_datasets.utils import ModuleStage, PLModuleInput

    records = []
    n_components = run.split.train.n_components
    device = torch.device("cuda" if run.cuda else "cpu")
    for label, name, overrides in _variants(run, COMPARED, compiled=True):
        try:
            # one batch of darts training builds the module with darts' own sizes
            model = run.model(name, limit_train_batches=1, **overrides)
            model.fit(run.train_slice(BATCH_SIZE))
            module = model.model.to(device).train()
            n_params = training.count_parameters(model)
            optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        except Exception as err:
            records.append(_failed(label, name, err))
            continue
        for b in run.sizes.module_batches:
            try:
                x = PLModuleInput(
                    past_target=torch.randn(b, run.lookback, n_components, device=device),
                    past_covariates=_random_phases(module, b, run.lookback, device),
                    stage=ModuleStage.TRAIN,
                )
                y = torch.randn(b, run.horizon, n_components, device=device)
                for _ in range(3):  # warm-up (and compilation)
                    _train_step(module, optimizer, x, y)
                with _PeakMemory(run.cuda) as memory, _timed(run.cuda) as elapsed:
                    for _ in range(run.sizes.module_steps):
                        _train_step(module, optimizer, x, y)
            except Exception as err:
                records.append({**_failed(label, name, err), "batch_size": b})
                continue
            ms = 1e3 * elapsed[0] / run.sizes.module_steps
            logger.info("module step: %s at B=%d: %.2f ms", label, b, ms)
            records.append(
                dict(
                    status="ok",
                    label=label,
                    model=name,
                    batch_size=b,
                    n_components=n_components,
                    n_params=n_params,
                    ms_per_step=ms,
                    windows_per_second=1e3 * b / ms if ms > 0 else None,
                    peak_memory_mib=memory.mib,
                    peak_memory_kind=memory.kind,
                    note="bare torch module: forward + backward + Adam, random batches, no darts",
                )
            )
    ok = [r for r in records if r["status"] == "ok"]
    by_key = {(r["label"], r["batch_size"]): r["ms_per_step"] for r in ok}
    for r in ok:
        ref = by_key.get(("dlinear", r["batch_size"]))
        r.update(reference="dlinear", ratio=r["ms_per_step"] / ref if ref else None)
    return records


def _throughput(run: _Run) -> list[dict[str, Any]]:
    """darts training throughput of CircuitNet, the Transformer and DLinear."""
    out = []
    for r in measure_throughput(
        _variants(run, THROUGHPUT_MODELS),
        run.split,
        run.horizon,
        n_windows=run.sizes.throughput_windows,
        batch_size=BATCH_SIZE,
        epochs=run.sizes.throughput_epochs,
        seed=run.seed,
        accelerator=run.accelerator,
        reference=THROUGHPUT_REFERENCE,
        preset=run.sizes.preset,
    ):
        out.append(
            dict(
                status=r["status"],
                error=r["error"],
                label=r["label"],
                model=r["model"],
                batch_size=r["batch_size"],
                n_components=run.split.train.n_components,
                n_windows=r["n_windows"],
                n_params=r["n_params"],
                windows_per_second=r["windows_per_second"],
                reference=r["reference"],
                ratio=r["ratio_to_reference"],
                note="darts training throughput (bench throughput), no validation",
            )
        )
    return out


def _loading_speed(dataset: Any, collate: Callable, cuda: bool, epochs: int = 3) -> float:
    """Windows/s of one shuffled pass of darts' DataLoader (median epoch after the first)."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate, pin_memory=False
    )
    seconds = []
    for _ in range(epochs):
        with _timed(cuda) as elapsed:
            for batch in loader:
                if cuda:  # as Lightning does: the batch goes to the GPU
                    batch.past_target.to("cuda", non_blocking=True)
                    batch.future_target.to("cuda", non_blocking=True)
        seconds.append(elapsed[0])
    return len(dataset) / statistics.median(seconds[1:])


def _data_path(run: _Run) -> list[dict[str, Any]]:
    """darts' training dataset against WindowDataset: loading only, then CircuitNet's fit."""
    from darts.utils.data.torch_datasets.training_dataset import SequentialTorchTrainingDataset
    from darts.utils.data.torch_datasets.utils import _batch_collate_fn_train

    from cnforecast.models.windows import WindowDataset, collate_windows

    windows = run.sizes.throughput_windows
    epochs = max(2, run.sizes.throughput_epochs)
    train = run.train_slice(windows)
    variants = ["darts dataset", "window dataset"] + (
        ["windows cut on the GPU"] if run.cuda else []
    )
    chunks = dict(input_chunk_length=run.lookback, output_chunk_length=run.horizon)
    whole = run.split.train
    datasets = {
        "darts dataset": (SequentialTorchTrainingDataset(whole, **chunks), _batch_collate_fn_train),
        "window dataset": (WindowDataset(whole, **chunks), collate_windows),
    }
    if run.cuda:
        datasets["windows cut on the GPU"] = (
            WindowDataset(whole, **chunks, device="cuda"),
            collate_windows,
        )
    loading = []
    for label in variants:
        dataset, collate = datasets[label]
        loading.append(
            dict(
                label=f"loading only ({label})",
                batch_size=BATCH_SIZE,
                n_components=whole.n_components,
                n_windows=len(dataset),
                windows_per_second=_loading_speed(dataset, collate, run.cuda),
                note="darts' DataLoader over every training window, shuffled, no model",
            )
        )
    fitted = []
    for label in variants:
        timer = training.EpochTimer()
        model = run.model("circuitnet", epochs=epochs, callbacks=[timer])
        model.use_window_dataset = label != "darts dataset"
        if label == "windows cut on the GPU":
            model.window_device = "cuda"
        model.fit(train)
        fitted.append(
            dict(
                label=f"circuitnet fit ({label})",
                model="circuitnet",
                batch_size=BATCH_SIZE,
                n_components=train.n_components,
                n_windows=windows,
                n_params=training.count_parameters(model),
                windows_per_second=_median_epoch_speed(timer, windows),
                note=f"training windows/s through darts fit, {epochs} epochs, first not timed",
            )
        )
    for group in (loading, fitted):
        base = group[0]["windows_per_second"]
        for r in group:
            r.update(reference=group[0]["label"], ratio=r["windows_per_second"] / base)
    return loading + fitted


def _train_and_predict(
    run: _Run, label: str, series: TimeSeries, batch_size: int, note: str
) -> dict[str, Any]:
    """One epoch of two batches, then one batch of predictions; times and peak memory."""
    windows = count_windows(len(series), run.lookback, run.horizon)
    with _PeakMemory(run.cuda) as memory:
        model = run.model("circuitnet", batch_size=batch_size)
        with _timed(run.cuda) as train_time:
            model.fit(series)
        inputs = [
            series[i : i + run.lookback]
            for i in range(min(batch_size, len(series) - run.lookback + 1))
        ]
        with _timed(run.cuda) as predict_time:
            model.predict(run.horizon, series=inputs, batch_size=batch_size, verbose=False)
    return dict(
        label=label,
        model="circuitnet",
        batch_size=batch_size,
        n_components=series.n_components,
        n_windows=windows,
        n_series=len(inputs),
        n_params=training.count_parameters(model),
        train_seconds=train_time[0],
        windows_per_second=windows / train_time[0],
        predict_seconds=predict_time[0],
        series_per_second=len(inputs) / predict_time[0],
        peak_memory_mib=memory.mib,
        peak_memory_kind=memory.kind,
        note=note,
    )


def _large_batch(run: _Run) -> list[dict[str, Any]]:
    b = run.sizes.large_batch
    series = run.train_slice(2 * b)
    note = (
        f"one epoch of 2 batches of {b} windows (fit, data set up included), then predict "
        f"{b} windows in one batch"
    )
    return [_train_and_predict(run, f"circuitnet B={b}", series, b, note)]


def _wide_series(run: _Run) -> list[dict[str, Any]]:
    b, c = run.sizes.wide_batch, run.sizes.wide_components
    series = _synthetic(c, run.lookback + run.horizon + 2 * b - 1, run.seed)
    note = (
        f"synthetic hourly series of {c} components: one epoch of 2 batches of {b} windows, "
        f"then predict {b} windows in one batch"
    )
    return [_train_and_predict(run, f"circuitnet C={c}", series, b, note)]


def _fitted(run: _Run, name: str, series: TimeSeries | list[TimeSeries]):
    """A model trained on two batches: prediction speed does not depend on the weights."""
    model = run.model(name, limit_train_batches=2)
    model.fit(series)
    return model


def _test_windows(run: _Run) -> list[dict[str, Any]]:
    test = run.split.test
    if run.sizes.test_windows is not None:
        test = test[-(run.lookback + run.horizon + run.sizes.test_windows - 1) :]
    n_windows = count_windows(len(test), run.lookback, run.horizon)
    train = run.train_slice(4 * BATCH_SIZE)
    records = []
    for name in COMPARED:
        model = _fitted(run, name, train)
        seconds = []
        for _ in range(run.sizes.predict_repeats):
            with _timed(run.cuda) as elapsed:
                forecasts = rolling_forecasts(
                    model, test, horizon=run.horizon, batch_size=run.sizes.predict_batch
                )
            seconds.append(elapsed[0])
        if len(forecasts[0]) != n_windows:
            raise AssertionError(f"{len(forecasts[0])} forecasts for {n_windows} test windows")
        records.append(
            dict(
                label=name,
                model=name,
                batch_size=run.sizes.predict_batch,
                n_components=test.n_components,
                n_windows=n_windows,
                n_params=training.count_parameters(model),
                predict_seconds=min(seconds),
                windows_per_second=n_windows / min(seconds),
                note=(
                    "every test window through historical_forecasts (retrain=False), "
                    f"best of {run.sizes.predict_repeats}"
                ),
            )
        )
    return records


def _many_series(run: _Run) -> list[dict[str, Any]]:
    n = run.sizes.many_series
    length = run.lookback + run.horizon
    base = _synthetic(1, length + n, run.seed)
    # n hourly series, each its own start and values
    many = [base[i : i + length] for i in range(n)]
    records = []
    for name in COMPARED:
        model = _fitted(run, name, many[: 4 * BATCH_SIZE])
        predictors = [(name, model, "")]
        if hasattr(model, "export_network"):  # CircuitNet: also its darts-free network
            from cnforecast.inference import NetworkPredictor

            device = "cuda" if run.cuda else "cpu"
            network = NetworkPredictor(model.export_network(), device)
            predictors.append((f"{name} (network)", network, ", darts-free network"))
        for label, predictor, how in predictors:
            seconds = []
            for _ in range(run.sizes.predict_repeats):
                with _timed(run.cuda) as elapsed:
                    out = predictor.predict(
                        run.horizon,
                        series=many,
                        batch_size=run.sizes.predict_batch,
                        verbose=False,
                    )
                seconds.append(elapsed[0])
            if len(out) != n:
                raise AssertionError(f"{len(out)} forecasts for {n} series")
            records.append(
                dict(
                    label=label,
                    model=name,
                    batch_size=run.sizes.predict_batch,
                    n_components=1,
                    n_series=n,
                    n_params=training.count_parameters(model),
                    predict_seconds=min(seconds),
                    series_per_second=n / min(seconds),
                    note=(
                        f"predict n={run.horizon} on {n} hourly series of {length} steps"
                        f"{how}, best of {run.sizes.predict_repeats}"
                    ),
                )
            )
        if len(predictors) > 1:  # the network's rate as a multiple of darts' predict
            darts_rate = records[-2]["series_per_second"]
            records[-1].update(reference=name, ratio=records[-1]["series_per_second"] / darts_rate)
    return records


_MEASURE_FUNCTIONS: dict[str, Callable[[_Run], list[dict[str, Any]]]] = {
    "module_step": _module_step,
    "throughput": _throughput,
    "data_path": _data_path,
    "large_batch": _large_batch,
    "wide_series": _wide_series,
    "test_windows": _test_windows,
    "many_series": _many_series,
}


def measure_speed(
    split: SplitLike,
    horizon: int,
    *,
    accelerator: str = "cpu",
    sizes: SpeedSizes | str | None = None,
    measures: Sequence[str] = MEASURES,
    threads: int | None = None,
    seed: int = 0,
    dataset: str | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the speed measurements on one device and return their records.

    Parameters
    ----------
    split
        A standard split (:func:`cnforecast.bench.runner.load_standard_split`); its
        ``train`` part feeds the training measurements, its ``test`` part ``test_windows``.
    horizon
        Output length ``H`` (the input length is ``split.lookback``).
    accelerator
        ``"cpu"`` or ``"gpu"`` (Lightning's accelerator; the bare module uses the same).
    sizes
        A :class:`SpeedSizes`, a name in :data:`SIZES`, or ``None``: :func:`default_sizes`.
    measures
        Which of :data:`MEASURES` to run, in that order.
    threads
        torch CPU threads while measuring (restored afterwards); ``None``: unchanged.
    seed
        ``random_state`` of every model.
    dataset
        The data set's name in the records (default: the split's ``name``).
    on_record
        Called with each record as soon as it is made.

    Returns
    -------
    list of dict
        Records with every field of :data:`SPEED_FIELDS`; ``status`` ``"ok"`` or
        ``"failed"`` (the reason in ``error``; the other measurements still run).
    """
    unknown = [m for m in measures if m not in _MEASURE_FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown measure(s) {', '.join(unknown)}; choose from {MEASURES}")
    if sizes is None:
        sizes = default_sizes(accelerator)
    elif isinstance(sizes, str):
        if sizes not in SIZES:
            raise ValueError(f"sizes {sizes!r} is not one of {', '.join(SIZES)}")
        sizes = SIZES[sizes]
    cuda = accelerator in ("gpu", "cuda")
    if cuda and not torch.cuda.is_available():
        raise ValueError("accelerator 'gpu' asked for, but torch sees no CUDA device")
    records: list[dict[str, Any]] = []
    with (
        devices.torch_threads(threads) as n_threads,
        tempfile.TemporaryDirectory(prefix="cnforecast-speed-") as work_dir,
    ):
        run = _Run(split, horizon, sizes, accelerator, seed, work_dir, cuda)
        common = dict(
            sizes=asdict(sizes),
            dataset=dataset or getattr(split, "name", None),
            lookback=split.lookback,
            horizon=horizon,
            seed=seed,
            accelerator=accelerator,
            device=_device_name(cuda),
            threads=n_threads,
        )
        for measure in measures:
            logger.info("bench speed: %s (%s sizes)", measure, sizes.name)
            started = time.perf_counter()
            try:
                made = [{"status": "ok", **r} for r in _MEASURE_FUNCTIONS[measure](run)]
            except Exception as err:
                logger.error(
                    "bench speed: %s failed: %s: %s\n%s",
                    measure,
                    type(err).__name__,
                    err,
                    traceback.format_exc(),
                )
                made = [{"status": "failed", "error": f"{type(err).__name__}: {err}"}]
            logger.info("bench speed: %s took %.1f s", measure, time.perf_counter() - started)
            for partial in made:
                record = fill_record(
                    {**common, "measure": measure, **partial},
                    SPEED_FIELDS,
                    schema=SCHEMA,
                    kind="speed record",
                )
                records.append(record)
                if on_record is not None:
                    on_record(record)
    return records


def _device_name(cuda: bool) -> str:
    if cuda:
        return devices.describe_device(None)
    # a stand-in for a model whose trainer runs on the CPU
    cpu_model = SimpleNamespace(
        trainer=SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")))
    )
    return devices.describe_device(cpu_model)


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def speed_table(records: Iterable[Mapping[str, Any]]) -> str:
    """A Markdown table of speed records: one row each, with the ratio and its reference.

    Examples
    --------
    >>> rows = [{"status": "ok", "measure": "throughput", "label": "circuitnet",
    ...          "batch_size": 32, "n_components": 7, "windows_per_second": 900.0,
    ...          "ratio": 9.0, "reference": "transformer"}]
    >>> print(speed_table(rows))
    | measure | label | B | C | ms/step | win/s | series/s | train s | pred s | MiB | ratio |
    |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
    | throughput | circuitnet | 32 | 7 | - | 900 | - | - | - | - | 9.00 to transformer |
    """
    lines = [
        "| measure | label | B | C | ms/step | win/s | series/s | train s | pred s | MiB | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        if r.get("status") != "ok":
            lines.append(
                f"| {r.get('measure')} | {r.get('label') or '-'} | failed: "
                f"{r.get('error')} | | | | | | | | |"
            )
            continue
        ratio = r.get("ratio")
        ratio_text = "-" if ratio is None else f"{ratio:.2f} to {r.get('reference')}"
        lines.append(
            f"| {r['measure']} | {r['label']} | {_fmt(r.get('batch_size'), 'd')} | "
            f"{_fmt(r.get('n_components'), 'd')} | {_fmt(r.get('ms_per_step'), '.2f')} | "
            f"{_fmt(r.get('windows_per_second'), ',.0f')} | "
            f"{_fmt(r.get('series_per_second'), ',.0f')} | "
            f"{_fmt(r.get('train_seconds'), '.2f')} | {_fmt(r.get('predict_seconds'), '.3f')} | "
            f"{_fmt(r.get('peak_memory_mib'), ',.0f')} | {ratio_text} |"
        )
    return "\n".join(lines)
