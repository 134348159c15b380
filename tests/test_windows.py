"""The vectorised window dataset gives darts' own training windows, and the same training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries
from darts.utils.data.torch_datasets.training_dataset import SequentialTorchTrainingDataset
from darts.utils.data.torch_datasets.utils import TorchTrainingBatch, _batch_collate_fn_train

from cnforecast.models.windows import UnsupportedWindows, WindowDataset, collate_windows

FIELDS = (
    "past_target",
    "past_covariates",
    "historic_future_covariates",
    "future_covariates",
    "static_covariates",
    "future_target",
    "sample_weight",
)


def _series(length: int, seed: int, start="2021-01-01", n_components: int = 3, static=True):
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=length, freq="h")
    values = rng.standard_normal((length, n_components)).astype(np.float32)
    s = TimeSeries.from_times_and_values(index, values, columns=[f"y{i}" for i in range(3)])
    if static:
        s = s.with_static_covariates(
            pd.DataFrame({"a": [seed + 0.5], "b": [2.0 * seed]}).astype(np.float32)
        )
    return s


def _covariates(target: TimeSeries, before: int, after: int, width: int, seed: int):
    rng = np.random.default_rng(seed)
    start = target.start_time() - before * target.freq
    index = pd.date_range(start, periods=before + len(target) + after, freq=target.freq)
    values = rng.standard_normal((len(index), width)).astype(np.float32)
    return TimeSeries.from_times_and_values(index, values)


# three series of different lengths, starts and covariate spans
TARGETS = [
    _series(61, 0),
    _series(44, 1, start="2021-03-01 05:00"),
    _series(90, 2, start="2020-12-30"),
]
PAST = [
    _covariates(t, before=b, after=0, width=2, seed=10 + i)
    for i, (t, b) in enumerate(zip(TARGETS, (0, 7, 3)))
]
FUTURE = [
    _covariates(t, before=b, after=a, width=4, seed=20 + i)
    for i, (t, b, a) in enumerate(zip(TARGETS, (5, 0, 2), (9, 5, 30)))
]
WEIGHTS = [
    _covariates(t, before=0, after=0, width=1, seed=30 + i).map(np.abs)
    for i, t in enumerate(TARGETS)
]

# static covariates per component (one row a component) rather than global
PER_COMPONENT = [
    t.with_static_covariates(
        pd.DataFrame({"s": [1.0 + i, 2.0 + i, 3.0 + i]}, index=list(t.components)).astype(
            np.float32
        )
    )
    for i, t in enumerate(TARGETS)
]

CASES = {
    "per-component static covariates": dict(series=PER_COMPONENT, past_covariates=PAST),
    "target only": dict(series=TARGETS, use_static_covariates=False),
    "all covariates": dict(series=TARGETS, past_covariates=PAST, future_covariates=FUTURE),
    "shift, stride": dict(
        series=TARGETS,
        future_covariates=FUTURE,
        output_chunk_shift=3,
        stride=4,
        sample_weight=WEIGHTS,
    ),
    "max samples below": dict(series=TARGETS, past_covariates=PAST, max_samples_per_ts=5),
    "max samples wrap": dict(
        series=TARGETS,
        past_covariates=PAST,
        sample_weight="linear",
        stride=3,
        max_samples_per_ts=40,
    ),
    "single series": dict(
        series=TARGETS[2], future_covariates=FUTURE[2], sample_weight="exponential"
    ),
}


def _pair(case: dict, icl: int = 12, ocl: int = 5):
    kwargs = dict(input_chunk_length=icl, output_chunk_length=ocl, **case)
    return SequentialTorchTrainingDataset(**kwargs), WindowDataset(**kwargs)


def _assert_same(ours, theirs, where):
    for name in FIELDS:
        a, b = getattr(ours, name), getattr(theirs, name)
        if b is None:
            assert a is None, f"{where}: {name} should be None"
            continue
        a = a.numpy() if isinstance(a, torch.Tensor) else a
        b = b.numpy() if isinstance(b, torch.Tensor) else b
        assert a.dtype == b.dtype, f"{where}: {name} dtype"
        assert a.shape == b.shape, f"{where}: {name} shape {a.shape} != {b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=f"{where}: {name}")


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_window_equals_darts(case):
    darts_ds, ours = _pair(CASES[case])
    assert len(ours) == len(darts_ds) > 0
    for i in range(len(ours)):
        _assert_same(ours[i], darts_ds[i], f"window {i}")


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_batches_equal_darts_collation(case):
    darts_ds, ours = _pair(CASES[case])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(ours)).tolist()
    for start in range(0, len(order), 32):
        indices = order[start : start + 32]
        batch = ours.__getitems__(indices)
        assert isinstance(batch, TorchTrainingBatch)
        expected = _batch_collate_fn_train([darts_ds[i] for i in indices])
        _assert_same(batch, expected, f"batch at {start}")
        assert collate_windows(batch) is batch
        # the torch path that cuts windows where the tensors live (a GPU), here on the CPU
        _assert_same(ours._getitems_on_device(indices), expected, f"torch batch at {start}")


def test_dataloader_gives_darts_batches_in_darts_order():
    darts_ds, ours = _pair(CASES["all covariates"])
    loaders = []
    for ds, collate in ((darts_ds, _batch_collate_fn_train), (ours, collate_windows)):
        torch.manual_seed(3)
        loaders.append(
            list(torch.utils.data.DataLoader(ds, batch_size=7, shuffle=True, collate_fn=collate))
        )
    assert len(loaders[0]) == len(loaders[1])
    for k, (theirs, mine) in enumerate(zip(*loaders)):
        _assert_same(mine, theirs, f"batch {k}")


def test_collate_windows_collates_darts_samples():
    darts_ds, _ = _pair(CASES["target only"])
    samples = [darts_ds[0], darts_ds[1]]
    _assert_same(collate_windows(samples), _batch_collate_fn_train(samples), "collate")


def test_errors_like_darts():
    with pytest.raises(ValueError, match="too short"):
        WindowDataset([TARGETS[0], TARGETS[1][:10]], input_chunk_length=12, output_chunk_length=5)
    short_past = [p[:-8] for p in PAST]  # ends before the newest input window
    with pytest.raises(ValueError):
        WindowDataset(
            TARGETS, past_covariates=short_past, input_chunk_length=12, output_chunk_length=5
        )
    with pytest.raises(UnsupportedWindows):
        WindowDataset(TARGETS, input_chunk_length=(6, 12), output_chunk_length=5)
    with pytest.raises(IndexError):
        WindowDataset(TARGETS[0], input_chunk_length=12, output_chunk_length=5).__getitems__([999])


def _circuitnet(quiet_trainer, **overrides):
    from cnforecast.models.registry import get_model_spec

    spec = get_model_spec("circuitnet")
    settings = {
        **spec.test_settings,
        "random_state": 7,
        "n_epochs": 2,
        "batch_size": 16,
        "pl_trainer_kwargs": quiet_trainer,
        **overrides,
    }
    return spec.create(12, 5, **settings)


def test_circuitnet_fit_uses_window_dataset_by_default(quiet_trainer):
    model = _circuitnet(quiet_trainer)
    dataset = model._build_train_dataset(TARGETS, None, None, None, None)
    assert isinstance(dataset, WindowDataset)
    model.use_window_dataset = False
    dataset = model._build_train_dataset(TARGETS, None, None, None, None)
    assert not isinstance(dataset, WindowDataset)


@pytest.mark.parametrize("covariates", [False, True], ids=["target", "covariates"])
def test_training_equals_training_on_darts_dataset(quiet_trainer, covariates):
    fit_kwargs = dict(series=TARGETS)
    if covariates:
        fit_kwargs.update(
            past_covariates=PAST, future_covariates=FUTURE, sample_weight=WEIGHTS, stride=2
        )
    preds = []
    for fast, device in ((True, None), (True, "cpu"), (False, None)):
        model = _circuitnet(quiet_trainer)
        model.use_window_dataset = fast
        model.window_device = device  # "cpu": the torch path that cuts windows on a GPU
        model.fit(**fit_kwargs)
        pred_kwargs = dict(series=TARGETS)
        if covariates:
            pred_kwargs.update(past_covariates=PAST, future_covariates=FUTURE)
        preds.append(np.stack([p.values() for p in model.predict(5, **pred_kwargs)]))
    np.testing.assert_allclose(preds[0], preds[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(preds[1], preds[2], rtol=1e-5, atol=1e-6)


def test_fit_from_dataset_with_a_darts_dataset_still_works(quiet_trainer):
    model = _circuitnet(quiet_trainer, n_epochs=1)
    darts_ds, _ = _pair(CASES["target only"])
    model.fit_from_dataset(darts_ds)
    assert np.isfinite(model.predict(5, series=TARGETS[0]).values()).all()


def test_validation_windows_come_from_the_window_dataset_too(quiet_trainer):
    losses = []
    for fast in (True, False):
        model = _circuitnet(quiet_trainer, n_epochs=1)
        model.use_window_dataset = fast
        model.fit(TARGETS[:2], val_series=TARGETS[2])
        losses.append(float(model.trainer.callback_metrics["val_loss"]))
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
