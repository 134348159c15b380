"""The cases of 'jobs that schedulers can trust', end to end through the command line.

Signals are in test_cli_signals.py; these run ``cnforecast`` in-process.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _jobs_data import OCL, job_args, make_frame, run_main, tiny_config, trained_model_dir

from cnforecast.jobs.fit import fit_job

UNWRITABLE = "/sys/cnforecast-test"  # accepts no new files, even for root


@pytest.fixture(scope="module")
def daily_utc(tmp_path_factory):
    """A model trained on daily data with UTC times (no covariates, no id), and its data."""
    folder = tmp_path_factory.mktemp("daily")
    frame = make_frame(n_series=1, length=80, future_rows=0, freq="D")[["time", "a"]]
    frame["time"] = frame["time"].dt.tz_localize("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    frame.to_csv(folder / "daily.csv", index=False)
    config = tiny_config(target_cols=["a"], past_cov_cols=[], future_cov_cols=[], id_col=None)
    fit_job(folder / "daily.csv", config, out=folder / "model", quiet=True)
    return folder


def test_the_model_directory_records_the_time_zone(daily_utc):
    manifest = json.loads((daily_utc / "model" / "manifest.json").read_text())
    assert manifest["data"]["tz"] == "UTC"
    assert manifest["data"]["freq"] == "D"


def test_predict_keeps_the_offset_and_refuses_naive_times(daily_utc, tmp_path, capsys):
    out = tmp_path / "p.csv"
    code, _, err = run_main(
        job_args("predict", daily_utc / "model", daily_utc / "daily.csv", out, "-n", "3"), capsys
    )
    assert code == 0, err
    times = pd.read_csv(out)["time"]
    assert times.tolist()[0].endswith("+00:00")
    naive = pd.read_csv(daily_utc / "daily.csv")
    naive["time"] = naive["time"].str[:10]
    naive.to_csv(tmp_path / "naive.csv", index=False)
    code, _, err = run_main(
        job_args(
            "predict", daily_utc / "model", tmp_path / "naive.csv", tmp_path / "q.csv", "-n", "3"
        ),
        capsys,
    )
    assert code == 1
    assert err.startswith("error: ") and "have no time zone, but the model in" in err
    assert not (tmp_path / "q.csv").exists()


def test_backtest_on_daily_data_works(daily_utc, tmp_path, capsys):
    out = tmp_path / "report"
    code, stdout, err = run_main(
        job_args("backtest", daily_utc / "model", daily_utc / "daily.csv", out), capsys
    )
    assert code == 0, err
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert forecasts["time"].str.endswith("+00:00").all()
    assert "forecasts" in stdout


def test_long_rollout_is_refused_with_a_clear_error(daily_utc, tmp_path, capsys):
    out = tmp_path / "p.csv"
    args = job_args("predict", daily_utc / "model", daily_utc / "daily.csv", out, "-n", "10000")
    code, _, err = run_main(args, capsys)
    assert code == 1
    assert err.startswith(f"error: n=10000 needs {10000 // OCL} roll-outs")
    assert err.count("\n") == 1 and not out.exists()
    code, _, err = run_main([*args[:-1], "12", "--max-rollouts", "3"], capsys)
    assert code == 0, err
    assert len(pd.read_csv(out)) == 12


def test_naive_model_refuses_utc_data(tmp_path, capsys):
    frame = make_frame()
    frame["time"] = frame["time"].dt.tz_localize("UTC")
    frame.to_csv(tmp_path / "utc.csv", index=False)
    code, _, err = run_main(
        job_args(
            "predict", trained_model_dir(), tmp_path / "utc.csv", tmp_path / "p.csv", "-n", str(OCL)
        ),
        capsys,
    )
    assert code == 1
    assert "the times have a time zone (UTC), but the model in" in err


def test_mixed_naive_and_aware_times(tmp_path, capsys):
    frame = make_frame()
    frame["time"] = frame["time"].astype(str)
    frame.loc[60:, "time"] = frame.loc[60:, "time"] + "+00:00"
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    code, _, err = run_main(
        job_args(
            "predict",
            trained_model_dir(),
            tmp_path / "mixed.csv",
            tmp_path / "p.csv",
            "-n",
            str(OCL),
        ),
        capsys,
    )
    assert code == 1
    assert "mixes times with a UTC offset (row 61" in err and "without one (row 1" in err


def test_one_infinite_value(tmp_path, capsys):
    frame = make_frame()
    frame.loc[7, "a"] = np.inf
    frame.to_csv(tmp_path / "inf.csv", index=False)
    code, _, err = run_main(
        job_args(
            "predict", trained_model_dir(), tmp_path / "inf.csv", tmp_path / "p.csv", "-n", str(OCL)
        ),
        capsys,
    )
    assert code == 1
    assert "column 'a' has 1 infinite value(s), the first at row 8" in err


def test_predict_never_overwrites_its_input(tmp_path, capsys):
    data = tmp_path / "h.csv"
    make_frame().to_csv(data, index=False)
    before = data.read_bytes()
    code, _, err = run_main(
        job_args("predict", trained_model_dir(), data, data, "-n", str(OCL), "--overwrite"), capsys
    )
    assert code == 1
    assert "is the input" in err and "not even with --overwrite" in err
    assert data.read_bytes() == before


@pytest.mark.parametrize("command", ["predict", "backtest", "forecast-batch", "fit"])
def test_unwritable_output_is_reported_before_any_work(command, tmp_path, capsys):
    data = tmp_path / "h.csv"
    make_frame().to_csv(data, index=False)
    if command == "fit":
        config = tmp_path / "c.yaml"
        from _jobs_data import write_config

        write_config(config)
        args = ["fit", "--config", str(config), "--data", str(data), "--out", f"{UNWRITABLE}/m"]
    elif command == "forecast-batch":
        args = ["forecast-batch", "--model-dir", str(trained_model_dir()), "--inputs", str(data)]
        args += ["--out", f"{UNWRITABLE}/out", "-n", str(OCL)]
    else:
        out = f"{UNWRITABLE}/out" + (".csv" if command == "predict" else "")
        args = job_args(command, trained_model_dir(), data, out)
        if command == "predict":
            args += ["-n", str(OCL)]
    code, _, err = run_main([*args, "--quiet"], capsys)
    assert code == 1
    assert err.startswith("error: cannot write") and "does not accept new files" in err
    assert "Traceback" not in err
