"""Distributed training: a 2-process DDP fit on the CPU gives the same kind of model.

Lightning's ``ddp`` strategy starts the second process by running the same command line
again (``python -m cnforecast fit ...``), which is how multi-GPU training runs too, so this
test exercises the real path with the gloo backend on two CPU processes.
"""

from __future__ import annotations

import pytest
from _jobs_data import make_frame, model_kwargs, run_cli, tiny_config, write_config

from cnforecast.jobs.fit import fit_job
from cnforecast.jobs.manifest import load_model_dir
from cnforecast.jobs.predict import forecast_series, inference_trainer_kwargs
from cnforecast.jobs.tabular import load_series


@pytest.mark.slow
def test_ddp_fit_on_two_cpu_processes(tmp_path):
    data = tmp_path / "train.csv"
    make_frame(n_series=4).to_csv(data, index=False)
    # the starts of the cycle (the data's means) and of the linear path (least squares) are
    # summed over both processes' windows
    kwargs = {**model_kwargs(), "cycle_init": "mean", "linear_init": "lstsq"}
    config = write_config(tmp_path / "model.yaml", model_kwargs=kwargs)
    out = tmp_path / "ddp_model"
    proc = run_cli(
        "fit",
        "--data",
        str(data),
        "--config",
        str(config),
        "--accelerator",
        "cpu",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--out",
        str(out),
        "--quiet",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("saved circuitnet model") == 1  # only rank 0 reports and saves
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    single = fit_job(data, tiny_config(model_kwargs=kwargs), quiet=True).model
    loaded = load_model_dir(out, inference_trainer_kwargs("cpu"))
    assert type(loaded.model) is type(single)
    assert loaded.manifest["config"]["strategy"] == "ddp"
    assert loaded.manifest["config"]["devices"] == 2
    ddp_shapes = {k: tuple(v.shape) for k, v in loaded.model.model.state_dict().items()}
    single_shapes = {k: tuple(v.shape) for k, v in single.model.state_dict().items()}
    assert ddp_shapes == single_shapes
    assert loaded.model.model.periodic.values().detach().abs().sum() > 0
    forecasts = forecast_series(loaded, load_series(data, loaded.columns), 2)
    assert [len(f) for f in forecasts] == [2, 2, 2, 2]
