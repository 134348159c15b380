"""``cnforecast fit``: end to end in a subprocess, bad inputs in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _jobs_data import make_frame, model_kwargs, run_cli, write_config

from cnforecast.cli.main import main
from cnforecast.jobs.manifest import load_model_dir
from cnforecast.jobs.predict import forecast_series, inference_trainer_kwargs
from cnforecast.jobs.tabular import load_series


def test_fit_end_to_end(tmp_path):
    data = tmp_path / "train.csv"
    make_frame(length=80).to_csv(data, index=False)
    huber = {"name": "HuberLoss", "delta": 0.5}
    config = write_config(
        tmp_path / "model.yaml", epochs=5, model_kwargs={**model_kwargs(), "loss_fn": huber}
    )
    out = tmp_path / "model"
    proc = run_cli(
        "fit",
        "--data",
        str(data),
        "--config",
        str(config),
        "--epochs",
        "2",
        "--val-fraction",
        "0.2",
        "--early-stopping-patience",
        "1",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert f"saved circuitnet model to {out} (2 series, frequency h)" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "model.pt",
        "model.pt.ckpt",
        "network.pt",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["epochs"] == 2  # the flag overrides the config file
    assert manifest["model"]["params"]["n_epochs"] == 2
    assert manifest["model"]["params"]["loss_fn"] == huber  # its argument kept, not a repr
    assert manifest["config"]["val_fraction"] == 0.2
    loaded = load_model_dir(out, inference_trainer_kwargs("cpu"))
    assert loaded.model.model_params["loss_fn"].delta == 0.5
    forecasts = forecast_series(loaded, load_series(data, loaded.columns), 3)
    assert [len(f) for f in forecasts] == [3, 3]
    assert all(np.isfinite(f.values()).all() for f in forecasts)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def fit(tmp_path, capsys):
    """Run ``cnforecast fit`` in-process on a table; return (exit code, stderr, out dir)."""
    config = write_config(tmp_path / "model.yaml")

    def run(frame, *extra, write=True, config_path=config):
        data = tmp_path / "train.csv"
        if write:
            frame.to_csv(data, index=False)
        out = tmp_path / "model"
        code = main(
            [
                "fit",
                "--data",
                str(data),
                "--config",
                str(config_path),
                "--out",
                str(out),
                "--quiet",
                *extra,
            ]
        )
        return code, capsys.readouterr().err, out

    return run


def test_misspelt_column(fit):
    code, err, out = fit(make_frame(), "--target-cols", "a,bb")
    assert code == 1
    assert "column 'bb' not found; did you mean 'b'?" in err
    assert not out.exists()


def test_non_numeric_value(fit):
    frame = make_frame().astype({"temp": object})
    frame.loc[7, "temp"] = "n/a?"
    code, err, out = fit(frame)
    assert code == 1
    assert "column 'temp' has a non-numeric value at row 8: 'n/a?'" in err
    assert not out.exists()


def test_unsorted_and_duplicated_times(fit):
    frame = make_frame()
    frame.loc[[3, 4]] = frame.loc[[4, 3]].to_numpy()
    code, err, _ = fit(frame)
    assert code == 1 and "not in increasing order" in err
    frame = make_frame()
    frame.loc[4, "time"] = frame.loc[3, "time"]
    code, err, _ = fit(frame)
    assert code == 1 and "duplicated time" in err


def test_irregular_frequency(fit):
    code, err, _ = fit(make_frame().drop(index=[20]))
    assert code == 1
    assert "series 's0': irregular time steps" in err


def test_nan_then_fill(fit):
    frame = make_frame()
    frame.loc[5, "b"] = np.nan
    code, err, out = fit(frame)
    assert code == 1
    assert "column 'b' has 1 missing value(s)" in err and "--fill" in err
    assert not out.exists()
    code, err, out = fit(frame, "--fill", "ffill")
    assert code == 0, err
    assert (out / "manifest.json").exists()


def test_series_shorter_than_the_model_needs(fit):
    code, err, out = fit(make_frame(length=15))
    assert code == 1
    assert (
        "15 time steps with target values, but at least 20 are needed "
        "(input_chunk_length 16 + output_chunk_length 4)"
    ) in err
    assert not out.exists()


def test_unknown_config_key(fit, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: circuitnet\nepocs: 2\n")
    code, err, _ = fit(make_frame(), config_path=bad)
    assert code == 1
    assert "unknown key 'epocs'; did you mean 'epochs'?" in err
    assert "Allowed keys:" in err


def test_unknown_model(fit):
    code, err, _ = fit(make_frame(), "--model", "circuitnett")
    assert code == 1
    assert "unknown model 'circuitnett'; known models: circuitnet" in err
    assert "did you mean 'circuitnet'?" in err


def test_existing_model_dir_is_refused_before_training(fit, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text("{}")
    code, err, _ = fit(make_frame())
    assert code == 1
    assert "already exists; pass --overwrite" in err
    code, err, out = fit(make_frame(), "--overwrite", write=False)
    assert code == 0, err
    assert json.loads((out / "manifest.json").read_text())["model"]["name"] == "circuitnet"
