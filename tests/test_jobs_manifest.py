"""Model directories: reload gives the same forecast; bad directories give clear errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from _jobs_data import make_frame, tiny_config, trained_model_dir

from cnforecast.jobs.errors import ModelDirError, OutputExistsError
from cnforecast.jobs.fit import fit_job
from cnforecast.jobs.manifest import FORMAT_VERSION, load_model_dir, read_manifest
from cnforecast.jobs.predict import forecast_series, inference_trainer_kwargs, predict_job
from cnforecast.jobs.tabular import frame_to_series

TRAINER = inference_trainer_kwargs("cpu")


@pytest.fixture
def model_copy(tmp_path):
    """A private copy of the trained model directory, free to damage."""
    return shutil.copytree(trained_model_dir(), tmp_path / "model")


def test_manifest_records_what_is_needed():
    manifest = read_manifest(trained_model_dir())
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["versions"]) >= {"cnforecast", "darts", "torch"}
    assert manifest["model"]["name"] == "circuitnet"
    assert manifest["model"]["class"].endswith("CircuitNetModel")
    assert manifest["data"]["columns"] == {
        "time": "time",
        "targets": ["a", "b"],
        "past_covariates": ["temp"],
        "future_covariates": ["hour"],
        "id": "id",
    }
    assert manifest["data"]["freq"] == "h"
    assert len(manifest["data"]["sha256"]) == 64
    assert set(manifest["scaler"]["targets"]["mean"]) == {"a", "b"}
    assert set(manifest["files"]) == {"model.pt", "model.pt.ckpt", "network.pt"}
    assert manifest["model"]["network"] == "network.pt"


def test_reloaded_model_gives_the_same_forecast(tmp_path):
    df = make_frame()
    result = fit_job(df, tiny_config(), out=tmp_path / "m", quiet=True)
    loaded = load_model_dir(tmp_path / "m", TRAINER)
    bundle = frame_to_series(df, loaded.columns)
    scaled = result.scaler.transform(bundle)
    direct = result.model.predict(
        4,
        series=scaled.targets,
        past_covariates=scaled.past_covariates,
        future_covariates=scaled.future_covariates,
    )
    direct = result.scaler.inverse_targets(direct)
    reloaded = forecast_series(loaded, bundle, 4)
    for a, b in zip(direct, reloaded):
        np.testing.assert_allclose(a.values(), b.values(), rtol=1e-5)
    # forecasts are in the original units (targets around 10 and 20), not scaled ones
    assert 5 < float(reloaded[0]["a"].values().mean()) < 15


def test_existing_model_dir_is_refused(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "manifest.json").write_text("{}")
    with pytest.raises(OutputExistsError, match=r"model directory .* already exists"):
        fit_job(make_frame(), tiny_config(), out=tmp_path / "m", quiet=True)


def test_missing_directory_and_manifest(tmp_path):
    with pytest.raises(ModelDirError, match="does not exist"):
        load_model_dir(tmp_path / "nope")
    with pytest.raises(ModelDirError, match="not a cnforecast model directory"):
        load_model_dir(tmp_path)


def test_other_format_version(model_copy):
    path = model_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest["versions"]["cnforecast"] = "9.0.0"
    path.write_text(json.dumps(manifest))
    with pytest.raises(
        ModelDirError, match=r"written by cnforecast 9.0.0 in model-directory format 2"
    ):
        load_model_dir(model_copy)


def test_other_darts_version(model_copy):
    path = model_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["versions"]["darts"] = "0.30.0"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError, match=r"saved with darts 0\.30\.0.*not portable"):
        load_model_dir(model_copy)


def test_corrupted_weights(model_copy):
    ckpt = model_copy / "model.pt.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(ModelDirError, match=r"model.pt.ckpt is corrupted"):
        load_model_dir(model_copy)


def test_missing_model_file(model_copy):
    (model_copy / "model.pt").unlink()
    with pytest.raises(ModelDirError, match=r"incomplete: model\.pt is missing"):
        load_model_dir(model_copy)


def test_corrupted_manifest(model_copy):
    (model_copy / "manifest.json").write_text('{"format": "cnforecast-mod')
    with pytest.raises(ModelDirError, match=r"manifest\.json is corrupted"):
        load_model_dir(model_copy)


def test_unscaled_gaussian_model(tmp_path):
    frame = make_frame(n_series=1, future_rows=0)
    config = tiny_config(
        scale=False, likelihood="gaussian", past_cov_cols=[], future_cov_cols=[], id_col=None
    )
    fit_job(frame, config, out=tmp_path / "m", quiet=True)
    loaded = load_model_dir(tmp_path / "m", TRAINER)
    assert loaded.manifest["scaler"] is None and loaded.scaler is None
    assert loaded.manifest["model"]["probabilistic"]
    frame.to_csv(tmp_path / "d.csv", index=False)
    preds = predict_job(loaded, tmp_path / "d.csv", n=2, num_samples=30, quantiles=[0.25, 0.75])
    assert list(preds.columns) == ["time", "a", "a_q0.25", "a_q0.75", "b", "b_q0.25", "b_q0.75"]
    assert (preds["a_q0.25"] <= preds["a_q0.75"]).all()
