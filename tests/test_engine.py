"""The run engine itself: provenance, metrics, training, evaluation, the grid runner."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from darts import TimeSeries
from pytorch_lightning.callbacks import EarlyStopping

from cnforecast.engine import evaluation, grid, provenance, training
from cnforecast.engine.devices import torch_threads
from cnforecast.engine.metrics import ErrorAccumulator, error_metrics, mae, mse
from cnforecast.errors import OutputExistsError
from cnforecast.models.registry import MODELS

L, H = 12, 4


def _series(n: int, seed: int = 0) -> TimeSeries:
    """Two noisy daily cycles of hourly data."""
    noise = np.random.default_rng(seed).normal(0, 0.1, (n, 2))
    phase = np.arange(n)[:, None] * (2 * np.pi / 24) + np.array([0.0, 1.0])
    return TimeSeries.from_times_and_values(
        pd.date_range("2021-06-01", periods=n, freq="h"), (np.cos(phase) + noise).astype("f4")
    )


def _model(epochs: int = 2, **trainer):
    spec = MODELS["dlinear"]
    settings = {**spec.test_settings, "n_epochs": epochs, "batch_size": 16, "random_state": 0}
    kwargs = training.trainer_kwargs(
        accelerator="cpu", progress_bar=False, callbacks=[training.EpochTimer()], **trainer
    )
    return spec.create(L, H, pl_trainer_kwargs=kwargs, **settings)


# ---------------------------------------------------------------------------- provenance
def test_to_jsonable_and_its_object_policy():
    value = {"cls": torch.optim.Adam, "x": (1, float("inf")), "n": np.int64(3), 2: Path("/a")}
    assert provenance.to_jsonable(value) == {
        "cls": "torch.optim.adam.Adam",
        "x": [1, None],
        "n": 3,
        "2": "/a",
    }
    assert provenance.to_jsonable({"o": torch.optim.Adam}, describe=repr) == {
        "o": repr(torch.optim.Adam)
    }
    json.dumps(provenance.to_jsonable({"t": pd.Timestamp("2020-01-01")}, describe=str))


def test_versions_git_and_sha256(tmp_path):
    versions = provenance.package_versions()
    assert versions["darts"] and versions["torch"] and versions["python"]
    commit, _ = provenance.git_commit()
    assert commit
    file = tmp_path / "f.bin"
    file.write_bytes(b"abc" * 1000)
    assert provenance.sha256_file(file) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_atomic_file_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), provenance.atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    provenance.atomic_write_text(target, "whole")
    with pytest.raises(OutputExistsError, match="already exists"):
        provenance.atomic_write_text(target, "again")
    provenance.atomic_write_text(target, "again", overwrite=True)
    assert target.read_text() == "again" and len(list(tmp_path.iterdir())) == 1


def test_atomic_directory_replaces_only_its_own_kind(tmp_path):
    out = tmp_path / "report"
    with provenance.atomic_directory(out, marker="m.json") as tmp:
        (tmp / "m.json").write_text("{}")
    with provenance.atomic_directory(out, overwrite=True, marker="m.json") as tmp:
        (tmp / "m.json").write_text("[]")
    assert (out / "m.json").read_text() == "[]"
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="does not look like an output"):
        with provenance.atomic_directory(other, overwrite=True, marker="m.json"):
            pass
    assert (other / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "report"]


# ------------------------------------------------------------------------------- metrics
def test_one_metric_set():
    rng = np.random.default_rng(0)
    true, pred = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 3))
    acc = ErrorAccumulator()
    for i in range(0, 5, 2):
        acc.update(true[i : i + 2], pred[i : i + 2])
    assert acc.n_windows == 5
    assert acc.mse == pytest.approx(mse(true, pred)) and acc.mae == pytest.approx(mae(true, pred))
    scores = error_metrics(true + 10, pred + 10)
    assert scores["mse"] == pytest.approx(mse(true, pred))
    assert scores["mae"] == pytest.approx(mae(true, pred))
    assert scores["n_points"] == true.size and scores["mape"] > 0
    assert error_metrics(np.array([]), np.array([]))["mse"] is None


# ------------------------------------------------------------------------------ training
def test_trainer_kwargs_are_built_once_for_every_path():
    bench = training.trainer_kwargs(accelerator="cpu", patience=3, progress_bar=False)
    assert "enable_checkpointing" not in bench and "strategy" not in bench
    assert isinstance(bench["callbacks"][-1], EarlyStopping) and bench["logger"] is False
    job = training.trainer_kwargs(
        accelerator="cpu", devices="auto", strategy="auto", checkpointing=False
    )
    assert job["enable_checkpointing"] is False and job["strategy"] == "auto"
    assert job["callbacks"] == []
    merged = training.merge_trainer_kwargs(
        {"logger": False, "callbacks": ["a"]}, None, {"logger": True, "callbacks": ["b"]}
    )
    assert merged == {"logger": True, "callbacks": ["a", "b"]}


def test_fit_measures_what_training_cost():
    model = _model(epochs=2, patience=5)
    train, val = [_series(80), _series(60, seed=1)], _series(40, seed=2)
    stats = training.fit(model, train, val)
    assert stats.n_train_windows == sum(evaluation.count_windows(len(s), L, H) for s in train)
    assert stats.epochs_run == 2 and len(stats.val_losses) == 2
    assert stats.train_time_s > 0 and stats.time_per_epoch_s > 0
    assert stats.best_val_loss == pytest.approx(min(stats.val_losses))
    assert not stats.stopped_early
    assert training.count_parameters(model) > 0


def test_fit_without_validation_or_timer():
    spec = MODELS["dlinear"]
    model = spec.create(
        L,
        H,
        **{**spec.test_settings, "n_epochs": 1},
        pl_trainer_kwargs=training.trainer_kwargs(accelerator="cpu", progress_bar=False),
    )
    stats = training.fit(model, _series(50))
    assert stats.epochs_run == 0 and math.isnan(stats.time_per_epoch_s)
    assert stats.best_val_loss is None and stats.n_train_windows == 50 - L - H + 1


# ---------------------------------------------------------------------------- evaluation
def test_rolling_forecasts_are_lists_per_series_and_match_evaluate():
    model = _model(epochs=1)
    training.fit(model, _series(80))
    test = _series(40, seed=3)
    (single,) = evaluation.rolling_forecasts(
        model, test, horizon=H, start=L, start_format="position"
    )
    n = evaluation.count_windows(len(test), L, H)
    assert len(single) == n and all(len(f) == H for f in single)
    both = evaluation.rolling_forecasts(model, [test, test], horizon=H, start=0.5, stride=H)
    assert len(both) == 2 and len(both[0]) == len(both[1]) >= 1
    result = evaluation.evaluate(model, test, lookback=L, horizon=H, expected_windows=n)
    pred = np.stack([f.values() for f in single])
    values = test.values()
    truth = np.stack([values[i + L : i + L + H] for i in range(n)])
    assert result.mse == pytest.approx(mse(truth, pred), rel=1e-6)


# ---------------------------------------------------------------------------------- grid
def test_grid_runs_skips_fails_and_restores_threads():
    threads = torch.get_num_threads()
    seen: list[tuple[str, str]] = []
    tasks = ["ok", "missing", "broken", "ok2"]

    def run(task: str) -> tuple[str, str]:
        if task == "broken":
            raise ValueError("bad")
        assert torch.get_num_threads() == 1
        return ("ok", task)

    outcomes = grid.run_grid(
        tasks,
        run,
        name=str,
        missing=lambda t: (t, ["neuralforecast"] if t == "missing" else []),
        skipped=lambda t, reason: ("skipped", reason),
        failed=lambda t, err: ("failed", f"{type(err).__name__}: {err}"),
        emit=seen.append,
        threads=1,
    )
    assert outcomes == seen
    assert [o[0] for o in outcomes] == ["ok", "skipped", "failed", "ok"]
    assert "pip install 'cnforecast[baselines]'" in outcomes[1][1]
    assert outcomes[2][1] == "ValueError: bad"
    assert torch.get_num_threads() == threads


def test_torch_threads_restores_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError
    assert torch.get_num_threads() == before


def test_engine_package_is_light():
    assert os.path.basename(provenance.__file__) == "provenance.py"
    source = Path(provenance.__file__).read_text()
    assert "import torch" not in source and "import darts" not in source
