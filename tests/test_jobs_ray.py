"""``forecast-batch --ray``: the batch job on a local Ray instance with 2 workers."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _jobs_data import OCL, make_frame, trained_model_dir

from cnforecast.jobs.batch import SUMMARY_FILE, forecast_batch_job
from cnforecast.jobs.ray_backend import shard

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=80 * 1024 * 1024,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


def test_shard_deals_files_round_robin():
    from pathlib import Path

    files = [Path(f"f{i}") for i in range(5)]
    assert shard(files, 2) == [["f0", "f2", "f4"], ["f1", "f3"]]
    assert shard(files[:1], 4) == [["f0"]]


def test_ray_batch_bad_file_reported_others_done_then_resumed(tmp_path, local_ray):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        make_frame(ids=[f"f{i}a", f"f{i}b"], seed=i).to_csv(inputs / f"s{i}.csv", index=False)
    (inputs / "broken.csv").write_text("id,time,a\nx,not a time,1\n")
    out = tmp_path / "out"
    model = trained_model_dir()

    summary = forecast_batch_job(
        model, inputs, out, OCL, accelerator="cpu", quiet=True, ray="local", ray_workers=2
    )
    assert not summary.ok
    assert [f["file"].endswith("broken.csv") for f in summary.failed] == [True]
    assert len(summary.written) == 4 and summary.n_series == 8
    record = json.loads((out / SUMMARY_FILE).read_text())
    assert record["backend"] == "ray" and record["n_written"] == 4 and record["n_failed"] == 1
    assert sorted(p.name for p in out.iterdir()) == [
        SUMMARY_FILE,
        "s0.csv",
        "s1.csv",
        "s2.csv",
        "s3.csv",
    ]
    # the same forecasts as the one-process job
    local = forecast_batch_job(model, inputs / "s2.csv", tmp_path / "local", OCL, quiet=True)
    assert local.ok
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "s2.csv"), pd.read_csv(tmp_path / "local" / "s2.csv"), atol=1e-5
    )
    # resumable: a rerun skips what is done, and only the bad file fails again
    again = forecast_batch_job(
        model, inputs, out, OCL, accelerator="cpu", quiet=True, ray="local", ray_workers=2
    )
    assert len(again.skipped) == 4 and len(again.failed) == 1 and not again.written


def test_without_ray_the_flag_says_how_to_install_it(monkeypatch):
    import sys

    from cnforecast.jobs.errors import JobError
    from cnforecast.jobs.ray_backend import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(JobError, match=r"--ray needs the ray package.*pip install"):
        import_ray()


def test_a_model_in_memory_cannot_go_to_ray(tmp_path):
    from cnforecast.jobs.errors import JobError
    from cnforecast.jobs.predict import open_model

    make_frame().to_csv(tmp_path / "a.csv", index=False)
    loaded = open_model(trained_model_dir(), "cpu")
    with pytest.raises(JobError, match="needs a model directory"):
        forecast_batch_job(loaded, tmp_path / "a.csv", tmp_path / "out", OCL, ray="local")
