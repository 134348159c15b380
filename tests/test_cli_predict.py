"""``cnforecast predict``: end to end in a subprocess, error cases in-process."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from _jobs_data import OCL, job_args, make_frame, run_cli, run_main, trained_model_dir

from cnforecast.jobs.manifest import load_model_dir
from cnforecast.jobs.predict import forecast_series, inference_trainer_kwargs
from cnforecast.jobs.tabular import load_series


@pytest.fixture
def data_csv(tmp_path):
    path = tmp_path / "history.csv"
    make_frame(seed=1).to_csv(path, index=False)
    return path


def test_predict_end_to_end(tmp_path, data_csv):
    out = tmp_path / "preds.csv"
    proc = run_cli(
        "predict",
        "--model-dir",
        str(trained_model_dir()),
        "--data",
        str(data_csv),
        "-n",
        str(OCL),
        "--out",
        str(out),
        "--accelerator",
        "cpu",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {2 * OCL} rows" in proc.stdout
    preds = pd.read_csv(out, parse_dates=["time"])
    assert list(preds.columns) == ["id", "time", "a", "b"]
    assert preds.groupby("id").size().to_dict() == {"s0": OCL, "s1": OCL}
    # the forecast starts right after the last target value of each series
    assert preds["time"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=60)
    # same numbers as the model reloaded in this process
    loaded = load_model_dir(trained_model_dir(), inference_trainer_kwargs("cpu"))
    expected = forecast_series(loaded, load_series(data_csv, loaded.columns), OCL)
    np.testing.assert_allclose(
        preds[preds.id == "s1"][["a", "b"]].to_numpy(), expected[1].values(), rtol=1e-4
    )


def predict_args(model_dir, data, out, *extra):
    return job_args("predict", model_dir, data, out, *extra)


def test_existing_output_is_refused_unless_overwrite(tmp_path, data_csv, capsys):
    out = tmp_path / "preds.csv"
    out.write_text("keep me")
    code, _, err = run_main(predict_args(trained_model_dir(), data_csv, out, "-n", "2"), capsys)
    assert code == 1
    assert "already exists; pass --overwrite" in err
    assert out.read_text() == "keep me"
    code, _, err = run_main(
        predict_args(trained_model_dir(), data_csv, out, "-n", "2", "--overwrite"), capsys
    )
    assert code == 0, err
    assert len(pd.read_csv(out)) == 4


def test_probabilistic_model_writes_quantile_columns(tmp_path, capsys):
    data = tmp_path / "one.parquet"
    make_frame(n_series=1, future_rows=0).drop(columns=["id"]).to_parquet(data)
    out = tmp_path / "p.parquet"
    code, _, err = run_main(
        predict_args(
            trained_model_dir("probabilistic"),
            data,
            out,
            "-n",
            "3",
            "--num-samples",
            "20",
            "--quantiles",
            "0.1,0.9",
        ),
        capsys,
    )
    assert code == 0, err
    preds = pd.read_parquet(out)
    assert list(preds.columns) == ["time", "a", "a_q0.1", "a_q0.9"]
    assert (preds["a_q0.1"] <= preds["a_q0.9"]).all()


def test_samples_from_a_deterministic_model(tmp_path, data_csv, capsys):
    code, _, err = run_main(
        predict_args(
            trained_model_dir(), data_csv, tmp_path / "p.csv", "-n", "2", "--num-samples", "10"
        ),
        capsys,
    )
    assert code == 1
    assert "deterministic" in err
    assert not (tmp_path / "p.csv").exists()


def test_horizon_beyond_the_past_covariates(tmp_path, data_csv, capsys):
    code, _, err = run_main(
        predict_args(trained_model_dir(), data_csv, tmp_path / "p.csv", "-n", str(OCL + 1)), capsys
    )
    assert code == 1
    assert f"at most output_chunk_length={OCL} steps" in err


@pytest.mark.parametrize(
    ("frame_kwargs", "message"),
    [
        pytest.param(
            {"future_rows": 2},
            "future covariates reach 2 step(s) past the last target value",
            id="future_covariates_must_cover_the_horizon",
        ),
        pytest.param({"freq": "D"}, "frequency 'D', but the model", id="wrong_frequency"),
    ],
)
def test_data_the_model_cannot_forecast(tmp_path, capsys, frame_kwargs, message):
    data = tmp_path / "data.csv"
    make_frame(**frame_kwargs).to_csv(data, index=False)
    code, _, err = run_main(
        predict_args(trained_model_dir(), data, tmp_path / "p.csv", "-n", "2"), capsys
    )
    assert code == 1
    assert message in err


def test_nan_in_history_and_the_fill_option(tmp_path, capsys):
    data = tmp_path / "gaps.csv"
    frame = make_frame()
    frame.loc[10, "a"] = np.nan
    frame.to_csv(data, index=False)
    out = tmp_path / "p.csv"
    code, _, err = run_main(predict_args(trained_model_dir(), data, out, "-n", "2"), capsys)
    assert code == 1
    assert "column 'a' has 1 missing value(s), the first at row 11" in err
    assert not out.exists()
    code, _, err = run_main(
        predict_args(trained_model_dir(), data, out, "-n", "2", "--fill", "interpolate"), capsys
    )
    assert code == 0, err


def test_corrupted_model_dir(tmp_path, data_csv, capsys):
    broken = shutil.copytree(trained_model_dir(), tmp_path / "broken")
    (broken / "model.pt").write_bytes(b"not a model")
    code, _, err = run_main(predict_args(broken, data_csv, tmp_path / "p.csv", "-n", "2"), capsys)
    assert code == 1
    assert "model.pt is corrupted" in err
    assert "Traceback" not in err
