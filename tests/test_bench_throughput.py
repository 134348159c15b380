"""Side-by-side training throughput: same windows for every model, records, the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries

from cnforecast.bench import throughput
from cnforecast.bench.records import read_records
from cnforecast.cli.main import main
from cnforecast.datasets import RatioSplit, standard_split, write_synthetic_dataset
from cnforecast.models.registry import MODELS, ModelSpec, UnknownModelError

L, H, N_WINDOWS, BATCH = 24, 12, 64, 24  # 64 windows = batches of 24 + 24 + 16


@pytest.fixture(scope="module")
def split():
    t = np.arange(400)[:, None]
    values = np.sin(2 * np.pi * t / 12 + np.arange(3)).astype(np.float32)
    series = TimeSeries.from_times_and_values(
        pd.date_range("2020-01-01", periods=400, freq="h"), values, columns=["a", "b", "OT"]
    )
    return standard_split(series, L, rule=RatioSplit(0.7, 0.2))


@pytest.fixture(scope="module")
def records(split):
    # the registry's small test settings (test_settings) on top of the defaults
    return throughput.measure_throughput(
        ["dlinear", "circuitnet"],
        split,
        H,
        n_windows=N_WINDOWS,
        batch_size=BATCH,
        epochs=2,
        threads=1,
        preset="test",
    )


def test_every_model_trains_on_exactly_n_windows(records, split):
    assert split.n_windows(H, part="train") > N_WINDOWS  # the cut is what limits it
    assert [r["label"] for r in records] == ["dlinear", "circuitnet"]
    for record in records:
        assert list(record) == list(throughput.THROUGHPUT_FIELDS)
        assert record["status"] == "ok", record["error"]
        # counted from the batches the trainer actually fed the model, each epoch
        assert record["windows_seen_per_epoch"] == [N_WINDOWS, N_WINDOWS]
        assert record["batches_per_epoch"] == [math.ceil(N_WINDOWS / BATCH)] * 2
        assert record["n_windows"] == N_WINDOWS
        assert record["batch_size"] == BATCH
        # the test settings' value, overridden
        assert record["registry_batch_size"] == MODELS[record["model"]].test_settings["batch_size"]
        assert record["model_kwargs"]["batch_size"] == BATCH


def test_records_hold_timings_ratios_and_provenance(records):
    by_label = {r["label"]: r for r in records}
    for record in records:
        assert record["epochs"] == 2 and record["warmup_epochs"] == 1
        assert len(record["seconds_per_epoch"]) == 2
        # the first epoch is warm-up: the speed comes from the second alone
        assert record["median_seconds_per_epoch"] == record["seconds_per_epoch"][1]
        assert record["windows_per_second"] == pytest.approx(
            N_WINDOWS / record["seconds_per_epoch"][1]
        )
        assert record["n_params"] > 0
        assert record["threads"] == 1
        assert record["device"].startswith("cpu")
        assert record["versions"]["darts"] and record["git_commit"]
        assert record["lookback"] == L and record["horizon"] == H
        assert "training throughput only" in record["note"]
        assert record["reference"] == "circuitnet"
    assert by_label["circuitnet"]["ratio_to_reference"] == 1.0
    assert by_label["dlinear"]["ratio_to_reference"] == pytest.approx(
        by_label["dlinear"]["windows_per_second"] / by_label["circuitnet"]["windows_per_second"]
    )
    table = throughput.throughput_table(records)
    assert "ratio to circuitnet" in table and "| circuitnet |" in table


def test_configuration_errors_fail_before_training(split):
    with pytest.raises(UnknownModelError, match="known models: circuitnet"):
        throughput.measure_throughput(["no_such_model"], split, H, n_windows=N_WINDOWS)
    with pytest.raises(ValueError, match="reference model 'circuitnet' is not among"):
        throughput.measure_throughput(["dlinear"], split, H, n_windows=N_WINDOWS)
    with pytest.raises(ValueError, match="uses batch_size=32"):
        throughput.measure_throughput(
            [("d", "dlinear", {"batch_size": 8})], split, H, reference=None, n_windows=8
        )
    with pytest.raises(ValueError, match="fewer than the 100000 asked for"):
        throughput.measure_throughput(["dlinear"], split, H, reference=None, n_windows=100_000)


def test_a_model_with_a_missing_dependency_is_skipped(split, monkeypatch):
    monkeypatch.setattr(
        ModelSpec, "missing_dependencies", lambda self: ["neuralforecast"] if self.requires else []
    )
    records = throughput.measure_throughput(
        [("dl", "dlinear", {"kernel_size": 3}), "patchtst"],
        split,
        H,
        n_windows=16,
        batch_size=8,
        reference="dlinear",  # a registry name finds its label
        preset="test",
    )
    assert [(r["label"], r["status"]) for r in records] == [("dl", "ok"), ("patchtst", "skipped")]
    assert records[0]["model_kwargs"]["kernel_size"] == 3
    assert "neuralforecast" in records[1]["error"]
    assert records[1]["ratio_to_reference"] is None
    assert records[0]["ratio_to_reference"] == 1.0


@pytest.fixture(scope="module")
def ett_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_synthetic_dataset("ETTh1", folder, 14400, seed=0)
    return folder


def test_cli_end_to_end(ett_folder, tmp_path, capsys):
    out = tmp_path / "tp.jsonl"
    argv = [
        "bench",
        "throughput",
        "--models",
        "circuitnet,dlinear",
        "--dataset",
        "ETTh1",
        "--data",
        str(ett_folder),
        "--no-verify",
        "--lookback",
        str(L),
        "--horizon",
        str(H),
        "--windows",
        "32",
        "--batch-size",
        "16",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--preset",
        "test",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| model | params | s/epoch | windows/s | ratio to circuitnet |" in printed
    assert "| dlinear |" in printed
    records = read_records(out)
    assert [r["label"] for r in records] == ["circuitnet", "dlinear"]
    assert all(r["windows_seen_per_epoch"] == [32, 32] for r in records)
    assert records[0]["ratio_to_reference"] == 1.0
    assert records[0]["dataset"] == "ETTh1"
    assert main(argv) == 0  # appends
    assert len(read_records(out)) == 4


def test_cli_unknown_model_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "throughput", "--models", "dlinear,nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown model(s) nope" in err and "known models: circuitnet" in err
