"""The harness end to end: records, report, plots; skipped and failed runs; the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from darts import TimeSeries

from cnforecast.bench import runner
from cnforecast.bench.config import config_from_dict
from cnforecast.bench.records import RECORD_FIELDS, new_record, read_records
from cnforecast.cli.main import main
from cnforecast.datasets import RatioSplit, standard_split, write_synthetic_dataset
from cnforecast.errors import ConfigError
from cnforecast.models.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


@pytest.fixture(scope="module")
def ett_folder(tmp_path_factory) -> Path:
    """A synthetic ETTh1.csv in the real file's format, long enough for the ETT split."""
    folder = tmp_path_factory.mktemp("data")
    write_synthetic_dataset("ETTh1", folder, 14400, seed=0)
    return folder


def _small_split(name: str, lookback: int):
    t = np.arange(300)[:, None]
    values = np.sin(2 * np.pi * t / 12 + np.arange(3)).astype(np.float32)
    series = TimeSeries.from_times_and_values(
        pd.date_range("2020-01-01", periods=300, freq="h"), values, columns=["a", "b", "OT"]
    )
    return standard_split(series, lookback, rule=RatioSplit(0.6, 0.3))


def _tiny_config(tmp_path: Path, models: list) -> object:
    return config_from_dict(
        {
            "models": models,
            "datasets": ["synthetic"],
            "horizons": [6],
            "lookback": 12,
            "max_epochs": 1,
            "accelerator": "cpu",
            "out": str(tmp_path / "out"),
        }
    )


def test_cli_end_to_end_on_a_synthetic_ett_file(ett_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "bench",
            "--config",
            str(CONFIGS / "tiny_synthetic.yaml"),
            "--data",
            str(ett_folder),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    records = read_records(out / runner.RECORDS_FILE)
    assert [r["label"] for r in records] == ["dlinear", "tsmixer"]
    split = standard_split("ETTh1", 48, path=ett_folder, verify=False)
    for record in records:
        assert list(record) == list(RECORD_FIELDS)
        assert record["status"] == "ok", record["error"]
        assert record["n_test_windows"] == split.n_windows(24) == 2857
        assert record["metric_scale"] == "standardised (train z-score)"
        assert record["split"]["borders"]["test_start"] == 11520 - 48
        # the validation split scored as the test one: every window, in MSE, and the
        # number darts' validation loss (MSE) of the restored epoch is
        assert record["n_val_windows"] == split.n_windows(24, part="val") > 0
        assert record["val_mse"] == pytest.approx(record["best_val_loss"], rel=0.02)
        assert record["val_mae"] > 0 and record["val_mse"] != record["mse"]
        for field in (
            "mse",
            "mae",
            "n_params",
            "train_time_s",
            "time_per_epoch_s",
            "train_windows_per_s",
            "predict_time_s",
            "peak_memory_mb",
        ):
            assert record[field] > 0, field
        assert record["epochs_run"] == 1 and record["train_windows_per_epoch"] == 64
        assert record["config"]["max_train_windows"] == 64
        assert (out / record["forecast_file"]).stat().st_size > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| ETTh1 | 48 | 24 | dlinear |" in report and "tsmixer" in report
    assert "| ETTh1 | 48 | 24 | dlinear |" in printed  # the table goes to the terminal
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert plots == ["forecasts_ETTh1_L48_H24.png", "mse_by_model.png", "mse_vs_params.png"]
    assert all((out / "plots" / p).stat().st_size > 1000 for p in plots)

    # the report can be rebuilt from the records alone
    (out / "report.md").unlink()
    rebuilt = tmp_path / "rebuilt"
    assert main(["bench", "report", str(out / runner.RECORDS_FILE), "--out", str(rebuilt)]) == 0
    assert "| ETTh1 | 48 | 24 | tsmixer |" in (rebuilt / "report.md").read_text("utf-8")
    assert (rebuilt / "plots" / "mse_by_model.png").is_file()


def test_missing_dependency_is_skipped_and_a_crash_is_recorded(tmp_path, monkeypatch):
    real = runner.get_model_spec

    seen: dict[str, str] = {}

    def boom(*args, **kwargs):
        time.sleep(1.1)  # the run goes on after it started
        seen["failing"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        raise RuntimeError("kaboom")

    def lookup(name):
        if name == "tsmixer":
            return dataclasses.replace(real(name), requires=("not_a_module",))
        if name == "tide":
            return dataclasses.replace(real(name), factory=boom)
        return real(name)

    monkeypatch.setattr(runner, "get_model_spec", lookup)
    models = [{"name": n, "preset": "test"} for n in ("tsmixer", "tide", "dlinear")]
    cfg = _tiny_config(tmp_path, models)
    records = runner.run_benchmark(cfg, split_loader=_small_split)
    by_label = {r["label"]: r for r in records}
    assert by_label["tsmixer"]["status"] == "skipped"
    assert "not_a_module" in by_label["tsmixer"]["error"]
    assert "not installed" in by_label["tsmixer"]["error"]
    assert by_label["tide"]["status"] == "failed"
    assert by_label["tide"]["error"] == "RuntimeError: kaboom"
    assert by_label["tide"]["started_at"] < seen["failing"]  # when it started, not failed
    assert by_label["dlinear"]["status"] == "ok" and by_label["dlinear"]["mse"] > 0
    for record in records:
        assert list(record) == list(RECORD_FIELDS)
    lines = (tmp_path / "out" / runner.RECORDS_FILE).read_text("utf-8").splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["skipped", "failed", "ok"]


def test_resume_skips_finished_runs(tmp_path):
    cfg = _tiny_config(tmp_path, [{"name": "dlinear", "preset": "test"}])
    first = runner.run_benchmark(cfg, split_loader=_small_split)
    assert [r["status"] for r in first] == ["ok"]
    again = runner.run_benchmark(cfg.replace(seeds=[0, 1]), split_loader=_small_split, resume=True)
    assert [(r["seed"], r["status"]) for r in again] == [(1, "ok")]


def test_a_record_states_when_its_run_started_and_the_commit_it_started_at(tmp_path, monkeypatch):
    import subprocess

    from cnforecast.engine import provenance

    commit = provenance.git_commit()
    real_evaluate = runner.evaluate
    seen: dict[str, str] = {}

    def slow_evaluate(*args, **kwargs):
        time.sleep(1.1)  # the run goes on after it started
        seen["testing"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        # a commit made while the run goes on does not relabel it: git is not asked again
        monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("git read again"))
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(runner, "evaluate", slow_evaluate)
    cfg = _tiny_config(tmp_path, [{"name": "dlinear", "preset": "test"}])
    (record,) = runner.run_benchmark(cfg, split_loader=_small_split)
    assert record["status"] == "ok"
    assert record["started_at"] < seen["testing"]  # ISO times in UTC sort as strings
    assert (record["git_commit"], record["git_dirty"]) == commit


def test_unknown_model_fails_before_any_run(tmp_path):
    cfg = _tiny_config(tmp_path, ["dlinear", "not_a_model"])
    with pytest.raises(KeyError, match="known models"):
        runner.run_benchmark(cfg, split_loader=_small_split)
    assert not (tmp_path / "out" / runner.RECORDS_FILE).exists()


def test_cli_rejects_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [dlinear]\ndatasets: [ETTh1]\nepochs: 2\n", encoding="utf-8")
    assert main(["bench", "--config", str(bad)]) == 2
    assert "allowed keys" in capsys.readouterr().err
    out = tmp_path / "out"
    assert (
        main(["bench", "--models", "dlinear", "--datasets", "NoSuchData", "--out", str(out)]) == 2
    )
    assert "NoSuchData" in capsys.readouterr().err
    assert not out.exists()


def test_registry_models_are_accepted_by_name(capsys):
    """``--models`` takes exactly the registry names."""
    from cnforecast.cli.bench_cmd import build_config
    from cnforecast.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["bench", "--models", ",".join(MODELS), "--datasets", "ETTh1"])
    assert [m.name for m in build_config(args).models] == list(MODELS)
    for name in MODELS:
        assert parser.parse_args(["bench", "--models", name]).models == [name]
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--models", "dlinear,not_a_model"])
    assert "known models: " + ", ".join(MODELS) in capsys.readouterr().err


def test_flags_override_the_file():
    from cnforecast.cli.bench_cmd import build_config
    from cnforecast.cli.main import build_parser

    args = build_parser().parse_args(
        [
            "bench",
            "--config",
            str(CONFIGS / "ablation_etth1.yaml"),
            "--models",
            "circuitnet,dlinear",
            "--horizons",
            "96",
            "--epochs",
            "2",
            "--seeds",
            "5",
            "--preset",
            "test",
        ]
    )
    cfg = build_config(args)
    assert cfg.horizons == (96,) and cfg.seeds == (5,) and cfg.max_epochs == 2
    labels = [m.label for m in cfg.models]
    assert len(labels) == 8 and labels[-1] == "dlinear"  # 7 ablation variants kept, dlinear added
    assert all(m.preset == "test" and "n_epochs" not in m.kwargs for m in cfg.models)


def _record(label: str, seed: int, mse: float, **extra) -> dict:
    return new_record(
        status="ok",
        model="circuitnet" if label.startswith("circuitnet") else label,
        label=label,
        dataset="ETTh1",
        lookback=96,
        horizon=96,
        seed=seed,
        mse=mse,
        mae=mse + 0.01,
        n_params=1000,
        time_per_epoch_s=1.0,
        epochs_run=3,
        **extra,
    )


def test_report_and_ablation_plot_from_records(tmp_path):
    from cnforecast.bench.plots import make_plots
    from cnforecast.bench.report import aggregate, markdown_table

    records = [
        _record("circuitnet[linear]", 0, 0.40),
        _record("circuitnet[linear]", 1, 0.42),
        _record("circuitnet[linear+attention+product]", 0, 0.38),
        _record("dlinear", 0, 0.39),
        new_record(
            status="failed",
            label="tide",
            model="tide",
            dataset="ETTh1",
            lookback=96,
            horizon=96,
            seed=0,
            error="RuntimeError: x",
            run_id="tide_x",
        ),
    ]
    rows = {r.label: r for r in aggregate(records)}
    assert rows["circuitnet[linear]"].mse_mean == pytest.approx(0.41)
    assert rows["circuitnet[linear]"].mse_std == pytest.approx(0.0141421, rel=1e-4)
    assert rows["dlinear"].mse_std is None and rows["tide"].n_ok == 0
    table = markdown_table(records)
    assert "| circuitnet[linear] | 0.410 ± 0.014 |" in table
    assert "| **0.380** |" in table  # the best MSE of the panel in bold
    assert "| tide | – | – | failed |" in table
    plots = {p.name for p in make_plots(records, tmp_path, tmp_path / "plots")}
    assert plots == {"mse_by_model.png", "mse_vs_params.png", "ablation_motifs.png"}
    assert (tmp_path / "plots" / "ablation_motifs.png").stat().st_size > 1000


def test_a_loss_with_arguments_is_recorded_as_a_config_names_it(tmp_path):
    huber = {"name": "HuberLoss", "delta": 0.5}
    cfg = _tiny_config(
        tmp_path, [{"name": "dlinear", "preset": "test", "kwargs": {"loss_fn": huber}}]
    )
    (record,) = runner.run_benchmark(cfg, split_loader=_small_split)
    assert record["status"] == "ok", record["error"]
    assert record["model_kwargs"]["loss_fn"] == huber  # not "<...HuberLoss>": the delta kept


def test_a_bad_loss_setting_fails_before_any_run(tmp_path):
    bad = {"name": "HuberLoss", "delta": -1}
    cfg = _tiny_config(
        tmp_path, ["dlinear", {"name": "dlinear", "label": "x", "kwargs": {"loss_fn": bad}}]
    )
    with pytest.raises(ConfigError, match="HuberLoss with arguments"):
        runner.run_benchmark(cfg, split_loader=_small_split)
    assert not (tmp_path / "out" / runner.RECORDS_FILE).exists()
