"""``cnforecast bench speed`` on tiny sizes: every measurement runs and records its fields."""

from __future__ import annotations

import json

import pytest

from cnforecast.bench.speed import MEASURES, SIZES, SPEED_FIELDS, default_sizes, speed_table
from cnforecast.cli.main import main
from cnforecast.datasets import write_synthetic_dataset

L, H = 24, 8
# the fields each measurement must fill in (beyond the provenance every record has)
FILLED = {
    "module_step": ("ms_per_step", "windows_per_second", "peak_memory_mib", "batch_size"),
    "throughput": ("windows_per_second", "ratio", "n_params"),
    "data_path": ("windows_per_second", "ratio"),
    "large_batch": ("train_seconds", "predict_seconds", "peak_memory_mib", "series_per_second"),
    "wide_series": ("train_seconds", "predict_seconds", "peak_memory_mib", "n_components"),
    "test_windows": ("predict_seconds", "n_windows"),
    "many_series": ("series_per_second", "n_series"),
}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed")
    write_synthetic_dataset("ETTh1", folder / "data", 14400)  # the standard split's rows
    out = folder / "out"
    argv = ["bench", "speed", "--sizes", "tiny", "--accelerator", "cpu", "--threads", "1"]
    argv += ["--data", str(folder / "data"), "--no-verify", "--lookback", str(L)]
    argv += ["--horizon", str(H), "--out", str(out)]
    assert main(argv) == 0
    lines = (out / "speed.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_every_measurement_is_recorded_with_its_figures(records):
    assert [r["measure"] for r in records] == [
        m for m in MEASURES for r in records if r["measure"] == m
    ]
    assert {r["measure"] for r in records} == set(MEASURES)
    for r in records:
        assert list(r) == list(SPEED_FIELDS)
        assert r["status"] == "ok", r["error"]
        assert r["schema"] == "cnforecast.bench.speed/1"
        assert r["device"].startswith("cpu") and r["accelerator"] == "cpu"
        assert r["threads"] == 1 and r["sizes"]["name"] == "tiny"
        assert r["versions"]["torch"] and r["versions"]["darts"]
        assert (r["lookback"], r["horizon"]) == (L, H)
        for name in FILLED[r["measure"]]:
            assert r[name] is not None and r[name] == r[name], (r["measure"], r["label"], name)


def test_ratios_are_taken_to_the_stated_reference(records):
    throughput = {r["label"]: r for r in records if r["measure"] == "throughput"}
    assert set(throughput) == {"circuitnet", "transformer", "dlinear"}
    assert throughput["transformer"]["ratio"] == pytest.approx(1.0)
    c = throughput["circuitnet"]
    ratio = c["windows_per_second"] / throughput["transformer"]["windows_per_second"]
    assert c["ratio"] == pytest.approx(ratio)
    data_path = [r for r in records if r["measure"] == "data_path"]
    assert [r["label"] for r in data_path] == [
        "loading only (darts dataset)",
        "loading only (window dataset)",
        "circuitnet fit (darts dataset)",
        "circuitnet fit (window dataset)",
    ]
    assert data_path[0]["ratio"] == pytest.approx(1.0)
    assert data_path[2]["ratio"] == pytest.approx(1.0)
    assert data_path[3]["reference"] == "circuitnet fit (darts dataset)"
    many = {r["label"]: r for r in records if r["measure"] == "many_series"}
    assert "circuitnet (network)" in many  # CircuitNet's darts-free predictor, beside darts'
    network = many["circuitnet (network)"]
    rate = network["series_per_second"] / many["circuitnet"]["series_per_second"]
    assert network["reference"] == "circuitnet" and network["ratio"] == pytest.approx(rate)


def test_sizes_and_table(records):
    assert default_sizes("gpu") is SIZES["gpu"] and default_sizes("cpu") is SIZES["cpu"]
    assert SIZES["gpu"].large_batch == 4096 and SIZES["gpu"].wide_components == 862
    table = speed_table(records)
    assert table.count("\n") == len(records) + 1
    assert "to transformer" in table


def test_unknown_measure_is_a_usage_error(tmp_path, capsys):
    assert main(["bench", "speed", "--measures", "nope", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_a_missing_data_file_falls_back_to_a_synthetic_one(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CNFORECAST_DATA", raising=False)
    monkeypatch.setenv("CNFORECAST_CACHE", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    argv = ["bench", "speed", "--sizes", "tiny", "--accelerator", "cpu", "--threads", "1"]
    argv += ["--measures", "many_series", "--lookback", str(L), "--horizon", str(H)]
    argv += ["--data", str(tmp_path / "empty"), "--no-download", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert "synthetic" in capsys.readouterr().err
    lines = (tmp_path / "out" / "speed.jsonl").read_text().splitlines()
    assert {json.loads(line)["dataset"] for line in lines} == {"ETTh1 (synthetic)"}
