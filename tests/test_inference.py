"""Forecasting without darts: the exported network, its file, and the jobs that use it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from _jobs_data import ICL, OCL, REPO, job_args, make_frame, trained_model_dir
from _small_network import SMALL, TRAINER, fit_small, small_network
from darts.models.components.layer_norm_variants import RINorm
from darts.utils.timeseries_generation import sine_timeseries

from cnforecast import CircuitNetModel
from cnforecast.cli.main import main
from cnforecast.inference import (
    NetworkFileError,
    NetworkPredictor,
    inference_device,
    load_network,
    save_network,
)
from cnforecast.jobs.errors import ForecastError, ModelDirError
from cnforecast.jobs.forecaster import Forecaster
from cnforecast.jobs.manifest import NETWORK_FILE, load_network_dir
from cnforecast.layers import CircuitConfig
from cnforecast.layers.instance_norm import ReversibleInstanceNorm
from cnforecast.layers.network import CircuitNetwork, NetworkShape


@pytest.fixture(scope="module")
def fitted() -> tuple[CircuitNetModel, list]:
    return fit_small()


# ------------------------------------------------------------------------------- layers
def test_the_network_maps_windows_to_forecasts_with_documented_shapes():
    net = small_network(past_cov_dim=2, future_cov_dim=3, static_cov_dim=1, nr_params=2)
    target = torch.randn(5, 32, 4, requires_grad=True)
    out = net(target, torch.randn(5, 32, 2), torch.randn(5, 8, 3), torch.randn(5, 4, 1))
    assert out.shape == (5, 8, 4, 2)  # (B, H, C, R)
    out.square().mean().backward()
    assert target.grad is not None and net.readout.head.weight.grad is not None
    with pytest.raises(ValueError, match="built with past covariates"):
        net(target)


def test_a_network_with_instance_norm_checks_its_components():
    net = CircuitNetwork(CircuitConfig(**SMALL), NetworkShape(32, 8), 3, {"eps": 1e-5})
    assert net(torch.randn(2, 32, 3)).shape == (2, 8, 3, 1)
    with pytest.raises(ValueError, match="3 target component"):
        net(torch.randn(2, 32, 4))
    with pytest.raises(ValueError, match="needs n_targets"):
        CircuitNetwork(CircuitConfig(**SMALL), NetworkShape(32, 8), instance_norm={})


def test_network_shape_is_validated():
    with pytest.raises(ValueError, match="output_chunk_length must be an integer >= 1"):
        NetworkShape(32, 0)
    assert NetworkShape.from_dict(NetworkShape(32, 8, 1).to_dict()) == NetworkShape(32, 8, 1)


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_is_darts_rinorm(affine):
    ours, theirs = ReversibleInstanceNorm(3, affine=affine), RINorm(3, affine=affine)
    if affine:
        with torch.no_grad():
            for module in (ours, theirs):
                module.affine_weight.copy_(torch.tensor([0.5, 2.0, 1.5]))
                module.affine_bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    x = torch.randn(4, 20, 3) * 5 + 2
    normed, stats = ours(x)
    torch.testing.assert_close(normed, theirs(x))
    y = torch.randn(4, 7, 3, 2)
    torch.testing.assert_close(ours.inverse(y, stats), theirs.inverse(y))


# ------------------------------------------------------------- export and darts' forecasts
@pytest.mark.parametrize("n", [1, 6, 12, 15, 40])
def test_the_exported_network_forecasts_what_darts_forecasts(fitted, n):
    """Within one output chunk and across roll-outs, n a multiple of H or not."""
    model, series = fitted
    predictor = NetworkPredictor(model.export_network())
    expected = model.predict(n, series, show_warnings=False, verbose=False)
    got = predictor.predict(n, series)
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b.values(), a.values(), rtol=1e-6, atol=1e-6)
        assert b.time_index.equals(a.time_index) and b.time_index.name == a.time_index.name
        assert list(b.components) == list(a.components) and b.dtype == a.dtype
    single = predictor.predict(n, series[0])
    np.testing.assert_allclose(single.values(), got[0].values())


def test_the_network_file_round_trips_without_pickled_code(fitted, tmp_path):
    model, series = fitted
    save_network(model.export_network(), tmp_path / "net.pt")
    record = torch.load(tmp_path / "net.pt", weights_only=True)  # plain values and tensors
    assert record["format"] == "cnforecast-network" and record["shape"]["input_chunk_length"] == 24
    loaded = NetworkPredictor(load_network(tmp_path / "net.pt"))
    assert loaded.cycle_length == 24  # hourly data: the default learns a daily cycle
    np.testing.assert_allclose(
        loaded.forecast(np.stack([s.values() for s in series]), 9, phases=loaded.phases(series)),
        np.stack([p.values() for p in model.predict(9, series, verbose=False)]),
        rtol=1e-6,
        atol=1e-6,
    )


def test_bad_network_files_are_refused_with_a_reason(fitted, tmp_path):
    model, _ = fitted
    with pytest.raises(NetworkFileError, match="does not exist"):
        load_network(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(NetworkFileError, match="not a readable network file"):
        load_network(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(NetworkFileError, match="not a cnforecast network file"):
        load_network(tmp_path / "other.pt")
    path = save_network(model.export_network(), tmp_path / "net.pt")
    record = torch.load(path, weights_only=True)
    torch.save({**record, "format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(NetworkFileError, match="network format 99"):
        load_network(tmp_path / "future.pt")
    record["state_dict"].pop("readout.head.weight")
    torch.save(record, tmp_path / "cut.pt")
    with pytest.raises(NetworkFileError, match="corrupted"):
        load_network(tmp_path / "cut.pt")


def test_an_untrained_model_has_no_network():
    with pytest.raises(ValueError, match="no trained network yet"):
        CircuitNetModel(24, 6).export_network()


def test_the_predictor_refuses_what_it_cannot_forecast(fitted):
    model, series = fitted
    with pytest.raises(ValueError, match="without covariates only"):
        NetworkPredictor(small_network(past_cov_dim=1))
    with pytest.raises(ValueError, match="has a likelihood"):
        NetworkPredictor(small_network(nr_params=3))
    predictor = NetworkPredictor(model.export_network())
    with pytest.raises(ValueError, match="without covariates"):
        predictor.predict(3, series, past_covariates=series)
    with pytest.raises(ValueError, match="at least input_chunk_length=24"):
        predictor.predict(3, [series[0][:10]])
    with pytest.raises(ValueError, match="histories of shape"):
        predictor.forecast(np.zeros((2, 10, 2)), 3)
    assert inference_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown accelerator"):
        inference_device("tpu")


# ----------------------------------------------------------------------------- jobs
def test_model_directories_carry_a_network_used_by_default():
    plain = trained_model_dir("plain")
    manifest = json.loads((plain / "manifest.json").read_text())
    assert manifest["model"]["network"] == NETWORK_FILE and NETWORK_FILE in manifest["files"]
    assert Forecaster.load(plain, "cpu", engine="auto").uses_network
    assert not Forecaster.load(plain, "cpu").uses_network  # the darts model by default
    # covariates or a likelihood: the darts model predicts
    for kind in ("covariates", "probabilistic"):
        assert load_network_dir(trained_model_dir(kind), "cpu") is None
        assert not Forecaster.load(trained_model_dir(kind), "cpu", engine="auto").uses_network
        with pytest.raises(ModelDirError, match="no darts-free network"):
            Forecaster.load(trained_model_dir(kind), "cpu", engine="network")


def test_both_engines_write_the_same_forecasts(tmp_path):
    plain = trained_model_dir("plain")
    data = tmp_path / "history.csv"
    make_frame(n_series=3, length=40, future_rows=0, seed=4).to_csv(data, index=False)
    tables = {}
    for engine in ("darts", "network"):
        out = tmp_path / f"{engine}.csv"
        assert main(job_args("predict", plain, data, out, "-n", "12", "--engine", engine)) == 0
        tables[engine] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["darts"], tables["network"], rtol=1e-6)
    assert tables["network"].shape == (3 * 12, 4)  # id, time, a, b


def test_a_network_forecaster_predicts_but_does_not_backtest(tmp_path):
    forecaster = Forecaster.load(trained_model_dir("plain"), "cpu", engine="network")
    data = tmp_path / "history.csv"
    make_frame(n_series=2, length=ICL + 8, future_rows=0).to_csv(data, index=False)
    bundle = forecaster.read(data)
    assert len(forecaster.predict(bundle, OCL)) == 2
    with pytest.raises(ForecastError, match="load it with engine='darts' to backtest"):
        forecaster.backtest(bundle)


def test_a_tampered_network_file_is_refused(tmp_path):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(trained_model_dir("plain"), copy)
    with open(copy / NETWORK_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelDirError, match="SHA-256 differs"):
        Forecaster.load(copy, "cpu", engine="auto")


def test_forecast_batch_on_the_network_imports_neither_lightning_nor_darts_models(tmp_path):
    """The point of the network: the job starts without the slowest imports."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    make_frame(n_series=2, length=30, future_rows=0).to_csv(inputs / "x.csv", index=False)
    script = textwrap.dedent(
        f"""
        import sys
        from cnforecast.cli.main import main
        status = main(["forecast-batch", "--model-dir", {str(trained_model_dir("plain"))!r},
                       "--inputs", {str(inputs)!r}, "--out", {str(tmp_path / "out")!r},
                       "-n", "4", "--accelerator", "cpu", "--quiet"], process=True)
        heavy = [m for m in ("pytorch_lightning", "lightning", "darts.models") if m in sys.modules]
        print("heavy:", heavy)
        sys.exit(status)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout
    assert len(pd.read_csv(tmp_path / "out" / "x.csv")) == 2 * 4


def test_a_model_without_instance_norm_exports_a_network_without_it(fitted):
    _, series = fitted
    model = CircuitNetModel(
        24,
        6,
        n_epochs=1,
        batch_size=16,
        random_state=1,
        pl_trainer_kwargs=TRAINER,
        use_reversible_instance_norm=False,
        **SMALL,
    ).fit(series)
    network = model.export_network()
    assert network.rin is None
    expected = model.predict(9, series, verbose=False)
    for a, b in zip(expected, NetworkPredictor(network).predict(9, series)):
        np.testing.assert_allclose(b.values(), a.values(), rtol=1e-6, atol=1e-6)


def test_roll_outs_longer_than_the_lookback_are_darts_roll_outs():
    """H > L: a new window is cut from the forecast; the shortened last chunk included."""
    series = [
        sine_timeseries(length=80, value_frequency=0.07 + 0.01 * i, freq="h").astype(np.float32)
        for i in range(2)
    ]
    model = CircuitNetModel(
        8, 12, n_epochs=1, batch_size=16, random_state=0, pl_trainer_kwargs=TRAINER, **SMALL
    ).fit(series)
    predictor = NetworkPredictor(model.export_network())
    for n in (20, 30):
        expected = model.predict(n, series, verbose=False)
        for a, b in zip(expected, predictor.predict(n, series)):
            np.testing.assert_allclose(b.values(), a.values(), rtol=1e-5, atol=1e-5)
