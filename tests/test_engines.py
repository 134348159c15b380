"""The ONNX network and the rule that picks the engine (onnx, network, darts) of a job."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from _jobs_data import REPO, job_args, make_frame, tiny_config, trained_model_dir
from _small_network import fit_small, small_network

from cnforecast import CircuitNetModel
from cnforecast.cli.main import main
from cnforecast.inference import (
    NetworkFileError,
    NetworkPredictor,
    OnnxRunner,
    TorchRunner,
    onnx_file,
)
from cnforecast.inference.onnx_file import save_onnx
from cnforecast.jobs.engines import engine_of_dir, resolve_engine
from cnforecast.jobs.errors import ModelDirError
from cnforecast.jobs.forecaster import Forecaster
from cnforecast.jobs.manifest import NETWORK_FILE, ONNX_FILE, load_network_dir


@pytest.fixture(scope="module")
def fitted() -> tuple[CircuitNetModel, list]:
    return fit_small(np.float32)  # float32: what the ONNX file holds


@pytest.fixture(scope="module")
def onnx_path(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    return save_onnx(fitted[0].export_network(), path)


# ------------------------------------------------------------------------ the ONNX file
@pytest.mark.parametrize("n", [1, 6, 15, 40])
def test_onnx_forecasts_are_darts_forecasts(fitted, onnx_path, n):
    model, series = fitted
    expected = model.predict(n, series, verbose=False)
    predictor = NetworkPredictor(OnnxRunner(onnx_path))
    assert predictor.engine == "onnx"
    for a, b in zip(expected, predictor.predict(n, series)):
        assert b.time_index.equals(a.time_index)
        np.testing.assert_allclose(b.values(), a.values(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 7, 1500])
def test_the_onnx_batch_size_is_free(fitted, onnx_path, batch):
    rng = np.random.default_rng(batch)
    windows = rng.normal(size=(batch, 24, 2)).astype(np.float32)
    phase = rng.integers(0, 24, batch)  # the default model learned a daily cycle
    expected = TorchRunner(fitted[0].export_network())(windows, phase)
    got = OnnxRunner(onnx_path)(windows, phase)
    assert got.shape == expected.shape == (batch, 6, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_the_onnx_runner_reads_its_sizes_and_checks_components(onnx_path):
    runner = OnnxRunner(onnx_path)
    assert (runner.input_chunk_length, runner.output_chunk_length, runner.n_targets) == (24, 6, 2)
    with pytest.raises(ValueError, match="2 target component"):
        NetworkPredictor(runner).forecast(np.zeros((3, 24, 1)), 6)
    with pytest.raises(ValueError, match="give no device"):
        NetworkPredictor(runner, "cuda")


def test_networks_the_onnx_file_cannot_hold_are_refused(tmp_path):
    with pytest.raises(ValueError, match="without covariates"):
        save_onnx(small_network(past_cov_dim=1), tmp_path / "a.onnx")
    with pytest.raises(ValueError, match="likelihood"):
        save_onnx(small_network(nr_params=2), tmp_path / "b.onnx")
    with pytest.raises(ValueError, match="float32"):
        save_onnx(small_network().double(), tmp_path / "c.onnx")
    assert not list(tmp_path.iterdir())


def test_an_export_that_does_not_reproduce_the_network_writes_nothing(
    fitted, tmp_path, monkeypatch
):
    monkeypatch.setattr(onnx_file, "TOLERANCE", -1.0)  # no export can pass
    with pytest.raises(NetworkFileError, match="does not reproduce"):
        save_onnx(fitted[0].export_network(), tmp_path / "net.onnx")
    assert not list(tmp_path.iterdir())


def test_bad_onnx_files_are_refused_with_a_reason(onnx_path, tmp_path):
    import onnx

    with pytest.raises(NetworkFileError, match="does not exist"):
        OnnxRunner(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph")
    with pytest.raises(NetworkFileError, match="not a readable ONNX network"):
        OnnxRunner(junk)
    graph = onnx.load(onnx_path)
    versions = {p.key: p for p in graph.metadata_props}
    versions["format_version"].value = "99"
    onnx.save(graph, tmp_path / "future.onnx")
    with pytest.raises(NetworkFileError, match="ONNX format 99"):
        OnnxRunner(tmp_path / "future.onnx")
    del graph.metadata_props[:]
    onnx.save(graph, tmp_path / "foreign.onnx")
    with pytest.raises(NetworkFileError, match="not a cnforecast ONNX network"):
        OnnxRunner(tmp_path / "foreign.onnx")


def test_reading_onnx_imports_no_torch(onnx_path):
    code = f"""
        import sys
        import numpy as np
        from cnforecast.inference import NetworkPredictor, OnnxRunner
        predictor = NetworkPredictor(OnnxRunner({str(onnx_path)!r}))
        values = predictor.forecast(np.zeros((2, 24, 2)), 9, phases=np.array([0, 5]))
        print(values.shape, "torch" in sys.modules)
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(2,", "9,", "2)", "False"]


# --------------------------------------------------------------------- the engine rule
def manifest(network=True, onnx=True, probabilistic=False, covariates=False) -> dict:
    files = {name: "x" for name, on in ((NETWORK_FILE, network), (ONNX_FILE, onnx)) if on}
    return {
        "model": {"network": NETWORK_FILE, "onnx": ONNX_FILE, "probabilistic": probabilistic},
        "data": {"columns": {"past_covariates": ["t"] if covariates else []}},
        "files": files,
    }


def test_auto_takes_onnx_then_the_torch_network_then_darts(monkeypatch):
    assert resolve_engine(manifest()) == "onnx"
    assert resolve_engine(manifest(), accelerator="cpu") == "onnx"
    assert resolve_engine(manifest(), accelerator="gpu") == "network"  # onnx runs on CPU
    assert resolve_engine(manifest(onnx=False)) == "network"
    assert resolve_engine(manifest(network=False)) == "darts"
    assert resolve_engine(manifest(probabilistic=True)) == "darts"
    assert resolve_engine(manifest(covariates=True)) == "darts"
    assert resolve_engine(manifest(), "darts") == "darts"
    assert resolve_engine(manifest(), "network") == "network"
    monkeypatch.setattr(onnx_file, "onnxruntime_available", lambda: False)
    assert resolve_engine(manifest()) == "network"
    with pytest.raises(ModelDirError, match="needs onnxruntime"):
        resolve_engine(manifest(), "onnx")


def test_an_engine_insisted_on_that_cannot_run_says_why():
    with pytest.raises(ModelDirError, match="has no ONNX network"):
        resolve_engine(manifest(onnx=False), "onnx")
    with pytest.raises(ModelDirError, match="has no ONNX network"):
        resolve_engine(manifest(covariates=True), "onnx")
    with pytest.raises(ModelDirError, match="runs on the CPU"):
        resolve_engine(manifest(), "onnx", accelerator="gpu")
    with pytest.raises(ModelDirError, match="no darts-free network"):
        resolve_engine(manifest(probabilistic=True), "network")
    with pytest.raises(ValueError, match="engine must be one of"):
        resolve_engine(manifest(), "tensorrt")


def test_the_command_line_reads_the_engine_from_the_manifest_alone(tmp_path):
    assert engine_of_dir(trained_model_dir("plain")) == "onnx"
    assert engine_of_dir(trained_model_dir("plain"), "network", None) == "network"
    assert engine_of_dir(trained_model_dir("covariates")) == "darts"
    assert engine_of_dir(tmp_path / "missing") == "darts"  # the job reports it
    (tmp_path / "manifest.json").write_text("[1, 2]")
    assert engine_of_dir(tmp_path) == "darts"


# ------------------------------------------------------------------------ the jobs
def test_fit_writes_a_verified_onnx_network_listed_in_the_manifest():
    plain = trained_model_dir("plain")
    record = json.loads((plain / "manifest.json").read_text())
    assert record["model"]["onnx"] == ONNX_FILE and ONNX_FILE in record["files"]
    forecaster = Forecaster.load(plain, "cpu", engine="auto")
    assert forecaster.uses_network and forecaster.model.engine == "onnx"
    assert Forecaster.load(plain, "cpu", engine="network").model.engine == "network"
    # covariates: neither file's engine predicts, and no ONNX file is written
    covariates = trained_model_dir("covariates")
    assert not (covariates / ONNX_FILE).exists()
    assert load_network_dir(covariates, "cpu") is None


def test_a_failing_onnx_export_keeps_the_trained_model(tmp_path, monkeypatch, caplog):
    from cnforecast.jobs.fit import fit_job

    def broken(*args, **kwargs):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(onnx_file, "save_onnx", broken)
    config = tiny_config(past_cov_cols=[], future_cov_cols=[])
    fit_job(make_frame(future_rows=0), config, out=tmp_path / "m", quiet=True)
    assert "exporter broke" in caplog.text
    record = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert "onnx" not in record["model"] and ONNX_FILE not in record["files"]
    assert not (tmp_path / "m" / ONNX_FILE).exists() and NETWORK_FILE in record["files"]
    assert Forecaster.load(tmp_path / "m", "cpu", engine="auto").model.engine == "network"


def test_all_three_engines_write_the_same_forecasts(tmp_path):
    plain = trained_model_dir("plain")
    data = tmp_path / "history.csv"
    make_frame(n_series=3, length=40, future_rows=0, seed=5).to_csv(data, index=False)
    tables = {}
    for engine in ("darts", "network", "onnx"):
        out = tmp_path / f"{engine}.csv"
        assert main(job_args("predict", plain, data, out, "-n", "15", "--engine", engine)) == 0
        tables[engine] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["darts"], tables["onnx"], rtol=1e-5, atol=1e-5)
    pd.testing.assert_frame_equal(tables["network"], tables["onnx"], rtol=1e-5, atol=1e-5)


def test_a_tampered_onnx_file_is_refused(tmp_path, capsys):
    copy = tmp_path / "m"
    shutil.copytree(trained_model_dir("plain"), copy)
    with open(copy / ONNX_FILE, "ab") as handle:
        handle.write(b"\0")
    data = tmp_path / "history.csv"
    make_frame(n_series=1, length=40, future_rows=0).to_csv(data, index=False)
    assert main(job_args("predict", copy, data, tmp_path / "out.csv", "-n", "3")) == 1
    assert "SHA-256 differs" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_forecast_batch_with_onnx_never_imports_torch(tmp_path):
    """The point of the ONNX engine: the job starts without torch (1.3 to 2.3 s here)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    make_frame(n_series=2, length=30, future_rows=0).to_csv(inputs / "x.csv", index=False)
    script = textwrap.dedent(
        f"""
        import sys
        from cnforecast.cli.main import main
        status = main(["forecast-batch", "--model-dir", {str(trained_model_dir("plain"))!r},
                       "--inputs", {str(inputs)!r}, "--out", {str(tmp_path / "out")!r},
                       "-n", "4", "--quiet"], process=True)
        print("torch:", "torch" in sys.modules)
        sys.exit(status)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "torch: False" in done.stdout
    assert len(pd.read_csv(tmp_path / "out" / "x.csv")) == 2 * 4


def test_a_model_with_a_learned_cycle_forecasts_alike_with_all_three_engines(tmp_path):
    from cnforecast.jobs.fit import fit_job

    kwargs = {**tiny_config().model_kwargs, "cycle_length": 24}
    config = tiny_config(past_cov_cols=[], future_cov_cols=[], model_kwargs=kwargs)
    fit_job(make_frame(future_rows=0), config, out=tmp_path / "m", quiet=True)
    assert (tmp_path / "m" / ONNX_FILE).exists()
    assert Forecaster.load(tmp_path / "m", "cpu", engine="auto").model.cycle_length == 24
    data = tmp_path / "history.csv"
    # series of different lengths end at different hours: different phases
    frame = make_frame(n_series=3, length=45, future_rows=0, seed=6)
    frame.iloc[:-2].to_csv(data, index=False)
    tables = {}
    for engine in ("darts", "network", "onnx"):
        out = tmp_path / f"{engine}.csv"
        args = job_args("predict", tmp_path / "m", data, out, "-n", "15", "--engine", engine)
        assert main(args) == 0
        tables[engine] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["darts"], tables["onnx"], rtol=1e-5, atol=1e-5)
    pd.testing.assert_frame_equal(tables["darts"], tables["network"], rtol=1e-5, atol=1e-5)
