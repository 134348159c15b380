"""The benchmark protocol: metrics, window counts and borders, exact evaluation, records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries

from cnforecast.bench.records import METRIC_SCALE, RECORD_FIELDS, new_record
from cnforecast.datasets import ETT_HOURLY_SPLIT, RatioSplit, standard_split
from cnforecast.engine import evaluation, training
from cnforecast.engine.metrics import ErrorAccumulator, mae, mse
from cnforecast.models.registry import MODELS

L, H = 12, 6


def _series(n: int, channels: int = 3, seed: int = 0) -> TimeSeries:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(2 * np.pi * t / 12 + np.arange(channels)) + 0.1 * rng.standard_normal(
        (n, channels)
    )
    index = pd.date_range("2020-01-01", periods=n, freq="h")
    return TimeSeries.from_times_and_values(index, values.astype(np.float32))


def test_metrics_match_a_hand_computation():
    y_true = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [1.0, -1.0]]])  # (2, 2, 2)
    y_pred = np.array([[[1.0, 0.0], [3.0, 5.0]], [[0.5, 0.0], [1.0, 1.0]]])
    # errors: 0, -2, 0, 1 | 0.5, 0, 0, 2 -> squares 0 4 0 1 .25 0 0 4; abs 0 2 0 1 .5 0 0 2
    assert mse(y_true, y_pred) == pytest.approx(9.25 / 8)
    assert mae(y_true, y_pred) == pytest.approx(5.5 / 8)
    acc = ErrorAccumulator()
    acc.update(y_true[:1], y_pred[:1])
    acc.update(y_true[1:], y_pred[1:])
    assert (acc.n_windows, acc.mse, acc.mae) == (2, pytest.approx(9.25 / 8), pytest.approx(5.5 / 8))


def test_metrics_reject_misaligned_arrays():
    with pytest.raises(ValueError, match="shapes differ"):
        mse(np.zeros((2, 3)), np.zeros((3, 2)))
    acc = ErrorAccumulator()
    acc.update(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="window shape"):
        acc.update(np.zeros((1, 4, 3)), np.zeros((1, 4, 3)))


def test_window_counts_and_borders_agree_with_the_split():
    # ETT hourly rule on a series of the real file's length: the README's 2785 windows
    split = standard_split(_series(17420, channels=2), 96, rule=ETT_HOURLY_SPLIT)
    assert split.n_windows(96) == evaluation.count_windows(len(split.test), 96, 96) == 2785
    assert split.n_windows(720) == 2161
    # the test part starts L rows before its border: the first target row is the border
    assert split.test.time_index[96] == split.train.time_index[0] + pd.Timedelta(hours=11520)


@pytest.fixture(scope="module")
def fitted_dlinear():
    series = _series(240)
    split = standard_split(series, L, rule=RatioSplit(0.6, 0.3))
    spec = MODELS["dlinear"]
    model = spec.create(
        L,
        H,
        **{**spec.test_settings, "n_epochs": 1},
        random_state=0,
        pl_trainer_kwargs=training.trainer_kwargs(accelerator="cpu", patience=None),
    )
    model.fit(split.train)
    return model, split


def test_evaluate_scores_every_window_exactly(fitted_dlinear):
    model, split = fitted_dlinear
    test = split.test
    n = split.n_windows(H)
    inputs = [test[i : i + L] for i in range(n)]
    preds = np.stack([p.values() for p in model.predict(H, series=inputs, verbose=False)])
    values = test.values()
    truth = np.stack([values[i + L : i + L + H] for i in range(n)])
    result = evaluation.evaluate(model, test, lookback=L, horizon=H, expected_windows=n)
    assert result.n_windows == n
    assert result.mse == pytest.approx(mse(truth, preds), rel=1e-5)
    assert result.mae == pytest.approx(mae(truth, preds), rel=1e-5)
    # chunked evaluation (a few windows at a time) gives the same numbers
    chunked = evaluation.evaluate(
        model, test, lookback=L, horizon=H, max_elements=5 * H * test.n_components
    )
    assert chunked.mse == pytest.approx(result.mse, rel=1e-6)
    assert chunked.mae == pytest.approx(result.mae, rel=1e-6)
    ex = result.examples
    assert ex.inputs.shape == (3, L) and ex.predictions.shape == (3, H)
    np.testing.assert_allclose(ex.predictions[0], preds[0, :, -1], rtol=1e-5)
    np.testing.assert_allclose(ex.targets[-1], truth[-1, :, -1])


def test_evaluate_checks_the_window_count(fitted_dlinear):
    model, split = fitted_dlinear
    with pytest.raises(AssertionError, match="windows"):
        evaluation.evaluate(
            model, split.test, lookback=L, horizon=H, expected_windows=split.n_windows(H) + 1
        )


def test_records_state_the_scaled_metric_and_every_field():
    record = new_record(status="ok", mse=0.4, mae=0.5, dataset="ETTh1")
    assert record["metric_scale"] == METRIC_SCALE == "standardised (train z-score)"
    assert list(record) == list(RECORD_FIELDS)
    assert record["git_commit"]  # a commit hash or "unknown"
    assert record["versions"]["darts"] and record["versions"]["torch"]
    with pytest.raises(ValueError, match="status"):
        new_record(status="done")
