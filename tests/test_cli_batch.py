"""``cnforecast forecast-batch``: batched, resumable, one bad file does not stop the rest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from _jobs_data import OCL, make_frame, run_cli, trained_model_dir

from cnforecast.cli.main import main
from cnforecast.jobs.batch import SUMMARY_FILE, forecast_batch_job
from cnforecast.jobs.manifest import load_model_dir
from cnforecast.jobs.predict import forecast_series, inference_trainer_kwargs
from cnforecast.jobs.tabular import load_series


def write_inputs(folder, n_files=3, bad=True):
    folder.mkdir()
    for i in range(n_files):
        make_frame(ids=[f"f{i}a", f"f{i}b"], seed=i).to_csv(folder / f"store{i}.csv", index=False)
    if bad:
        (folder / "broken.csv").write_bytes(b"id,time,a\n\x00\xff\xfe garbage")
    return folder


def batch_args(inputs, out):
    return [
        "forecast-batch",
        "--model-dir",
        str(trained_model_dir()),
        "--inputs",
        str(inputs),
        "--out",
        str(out),
        "-n",
        str(OCL),
        "--accelerator",
        "cpu",
        "--quiet",
    ]


def test_batch_end_to_end_with_a_corrupt_file_then_resume(tmp_path, capsys):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    proc = run_cli(*batch_args(inputs / "*.csv", out))
    assert proc.returncode == 1, proc.stderr
    assert "4 files: 3 written, 0 skipped (already done), 1 failed" in proc.stdout
    assert "broken.csv" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        SUMMARY_FILE,
        "store0.csv",
        "store1.csv",
        "store2.csv",
    ]
    preds = pd.read_csv(out / "store1.csv")
    assert list(preds.columns) == ["id", "time", "a", "b"]
    assert preds.groupby("id").size().to_dict() == {"f1a": OCL, "f1b": OCL}
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["n_failed"] == 1 and summary["failed"][0]["file"].endswith("broken.csv")
    assert summary["n_predict_calls"] == 1  # 6 series in one batch

    # a rerun skips what is done, and still reports the bad file
    before = (out / "store0.csv").stat().st_mtime_ns
    code = main(batch_args(inputs, out))
    assert code == 1
    assert "4 files: 0 written, 3 skipped (already done), 1 failed" in capsys.readouterr().out
    assert (out / "store0.csv").stat().st_mtime_ns == before

    # once the bad file is fixed, only it is computed
    make_frame(ids=["fixed"]).to_csv(inputs / "broken.csv", index=False)
    code = main(batch_args(inputs, out))
    assert code == 0
    assert "4 files: 1 written, 3 skipped (already done), 0 failed" in capsys.readouterr().out


def test_series_are_predicted_in_batches_and_mapped_back_to_their_files(tmp_path):
    inputs = write_inputs(tmp_path / "in", n_files=5, bad=False)
    loaded = load_model_dir(trained_model_dir(), inference_trainer_kwargs("cpu"))
    summary = forecast_batch_job(
        loaded, inputs, tmp_path / "out", n=2, batch_size=4, series_per_call=4, quiet=True
    )
    assert summary.ok and len(summary.written) == 5
    assert summary.n_predict_calls == 3  # 10 series, flushed at 4, 4 and 2
    for i in (0, 4):
        expected = forecast_series(loaded, load_series(inputs / f"store{i}.csv", loaded.columns), 2)
        got = pd.read_csv(tmp_path / "out" / f"store{i}.csv")
        np.testing.assert_allclose(
            got[got.id == f"f{i}b"][["a", "b"]].to_numpy(), expected[1].values(), rtol=1e-4
        )


def test_a_file_that_breaks_its_batch_is_isolated(tmp_path):
    inputs = write_inputs(tmp_path / "in", n_files=2, bad=False)
    # valid table, but its future covariates do not reach far enough: predict refuses it
    make_frame(ids=["short"], future_rows=1).to_csv(inputs / "short.csv", index=False)
    summary = forecast_batch_job(
        trained_model_dir(), inputs, tmp_path / "out", n=OCL, accelerator="cpu", quiet=True
    )
    assert [f["file"] for f in summary.failed] == [str(inputs / "short.csv")]
    assert "future covariates reach 1 step(s)" in summary.failed[0]["error"]
    assert sorted(p.name for p in (tmp_path / "out").glob("store*")) == [
        "store0.csv",
        "store1.csv",
    ]
