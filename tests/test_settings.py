"""One source of truth for settings: precedence, names, errors, exit statuses, fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnforecast.bench.config import load_config
from cnforecast.cli.main import EXIT_USAGE, build_parser, exit_status
from cnforecast.datasets import paths
from cnforecast.errors import CnforecastError, ConfigError
from cnforecast.settings import deep_merge, loss_setting, model_kwargs, overrides, parse_devices

REPO = Path(__file__).resolve().parents[1]

_IMPORTED = """
import sys
from cnforecast.cli.main import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "darts", "pytorch_lightning") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["--help"], ["datasets", "list"], ["bench", "--help"]])
def test_commands_start_without_torch_or_darts(argv):
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORTED.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY=", proc.stdout


def test_datasets_paths_does_not_import_the_package():
    source = (REPO / "cnforecast" / "datasets" / "paths.py").read_text()
    assert "import cnforecast\n" not in source


def test_a_relative_data_folder_is_made_absolute_once(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.ENV_DATA, "data")
    assert paths.data_dir() == tmp_path / "data"
    assert os.environ[paths.ENV_DATA] == str(tmp_path / "data")  # what subprocesses see
    monkeypatch.chdir(REPO)
    assert paths.data_dir() == tmp_path / "data"
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['CNFORECAST_DATA'])"],
        capture_output=True,
        text=True,
        cwd=REPO / "docs",
    )
    assert child.stdout.strip() == str(tmp_path / "data")


def test_bench_data_flag_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["bench", "--models", "dlinear", "--data", "d"])
    assert Path(args.data) == tmp_path / "d"


def test_epochs_flag_and_keyword_override_have_the_same_precedence(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "models:\n  - name: dlinear\n    kwargs: {n_epochs: 7}\ndatasets: [ETTh1]\n",
        encoding="utf-8",
    )
    from cnforecast.cli.bench_cmd import build_config

    by_keyword = load_config(path, max_epochs=3)
    by_flag = build_config(
        build_parser().parse_args(["bench", "--config", str(path), "--epochs", "3"])
    )
    assert by_keyword == by_flag
    resolved = by_flag.models[0].resolved_kwargs({}, {}, by_flag.max_epochs)
    assert resolved["n_epochs"] == 3
    kept = load_config(path)  # without an override the model's own n_epochs stays
    assert kept.models[0].resolved_kwargs({}, {}, kept.max_epochs)["n_epochs"] == 7


def test_model_kwargs_merge_registry_defaults_once_and_deeply():
    kwargs = model_kwargs(
        {"optimizer_kwargs": {"lr": 1e-3, "eps": 1e-8}, "batch_size": 32},
        {"random_state": 1},
        {"optimizer_kwargs": {"lr": 1e-2}, "motifs": ["linear"]},
    )
    assert kwargs["optimizer_kwargs"] == {"lr": 1e-2, "eps": 1e-8}
    assert kwargs["motifs"] == ("linear",) and kwargs["batch_size"] == 32
    assert overrides({"a": 1, "b": 2}, {"a": None, "b": 3}) == {"a": 1, "b": 3}
    assert deep_merge(None, {"x": {"y": 1}}) == {"x": {"y": 1}}


def test_a_loss_is_named_by_its_torch_class():
    import torch

    assert isinstance(model_kwargs({}, {"loss_fn": "L1Loss"})["loss_fn"], torch.nn.L1Loss)
    huber = model_kwargs({"loss_fn": "torch.nn.HuberLoss"})["loss_fn"]
    assert isinstance(huber, torch.nn.HuberLoss)
    with pytest.raises(ConfigError, match="no class 'MAE'"):
        model_kwargs({}, {"loss_fn": "MAE"})
    with pytest.raises(ConfigError, match=r"not a torch loss module.*L1Loss"):
        model_kwargs({}, {"loss_fn": "torch.nn.functional.l1_loss"})


def test_devices_are_parsed_once_for_every_command():
    parser = build_parser()
    assert parser.parse_args(["bench", "--models", "dlinear", "--devices", "0,1"]).devices == [0, 1]
    fit = parser.parse_args(["fit", "--data", "x.csv", "--out", "m", "--devices", "0,1"])
    assert fit.devices == [0, 1] == parse_devices("0,1")
    assert parse_devices("auto") == "auto" and parse_devices("2") == 2
    with pytest.raises(ConfigError):
        parse_devices("0,x")


def test_one_exit_status_policy():
    from cnforecast.datasets import DatasetNotFoundError, UnknownDatasetError
    from cnforecast.models.registry import UnknownModelError

    assert exit_status(ConfigError("x")) == EXIT_USAGE
    assert exit_status(UnknownModelError("x")) == EXIT_USAGE
    assert exit_status(UnknownDatasetError("x", ["ETTh1"])) == EXIT_USAGE
    assert exit_status(ConfigError("x"), usage_status=1) == 1  # the job commands
    assert exit_status(CnforecastError("x")) == 1
    assert exit_status(DatasetNotFoundError("no file", name="ETTh1", searched=[])) == 1
    assert exit_status(ValueError("a bug")) is None


def test_one_config_error_class():
    from cnforecast.bench.config import ConfigError as BenchConfigError
    from cnforecast.jobs.errors import ConfigError as JobConfigError
    from cnforecast.jobs.errors import JobError

    assert BenchConfigError is JobConfigError is ConfigError
    assert issubclass(ConfigError, JobError) and issubclass(ConfigError, ValueError)


def test_forecaster_reads_lengths_from_the_model(tmp_path):
    from _jobs_data import ICL, OCL, make_frame, trained_model_dir

    from cnforecast.jobs import Forecaster
    from cnforecast.jobs.tabular import load_series

    forecaster = Forecaster.load(trained_model_dir(), accelerator="cpu")
    assert (forecaster.input_chunk_length, forecaster.output_chunk_length) == (ICL, OCL)
    data = tmp_path / "d.csv"
    make_frame().to_csv(data, index=False)
    bundle = load_series(data, forecaster.columns)
    frame = forecaster.to_frame(forecaster.predict(bundle, OCL), bundle.ids)
    assert len(frame) == len(bundle) * OCL
    manifest = json.loads((trained_model_dir() / "manifest.json").read_text())
    assert manifest["model"]["input_chunk_length"] == ICL


def test_fit_flags_are_the_config_fields():
    from cnforecast.jobs.config import FitConfig

    parser = build_parser()
    args = parser.parse_args(["fit", "--data", "x.csv", "--out", "m"])
    job_only = {"command", "config", "data", "func", "out", "overwrite", "quiet", "verbose"}
    flags = set(vars(args)) - job_only - {"usage_status", "preload"}
    assert flags <= set(FitConfig.allowed_keys())
    assert set(FitConfig.allowed_keys()) - flags == {"model_kwargs", "trainer_kwargs"}
    argv = ["fit", "--data", "x.csv", "--out", "m", "--epochs", "3", "--batch-size", "8"]
    config = FitConfig(epochs=5, lr=0.01).with_flags(vars(parser.parse_args(argv)))
    assert (config.epochs, config.batch_size, config.lr) == (3, 8, 0.01)


def test_a_loss_is_given_with_its_arguments_and_recorded_as_it_was_given():
    import torch

    huber = model_kwargs(
        {"loss_fn": torch.nn.MSELoss()}, {"loss_fn": {"name": "HuberLoss", "delta": 0.5}}
    )
    assert isinstance(huber["loss_fn"], torch.nn.HuberLoss) and huber["loss_fn"].delta == 0.5
    assert loss_setting(huber["loss_fn"]) == {"name": "HuberLoss", "delta": 0.5}
    assert loss_setting(torch.nn.HuberLoss()) == "HuberLoss"
    assert loss_setting(torch.nn.L1Loss(reduction="sum")) == {"name": "L1Loss", "reduction": "sum"}
    # the recorded form reads back as the same loss
    again = model_kwargs({}, {"loss_fn": loss_setting(huber["loss_fn"])})["loss_fn"]
    assert type(again) is torch.nn.HuberLoss and again.delta == 0.5
    assert (
        model_kwargs({}, {"loss_fn": {"name": "torch.nn.SmoothL1Loss", "beta": 0.2}})[
            "loss_fn"
        ].beta
        == 0.2
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"delta": 0.5}, r"needs its class as 'name'"),
        ({"name": "HuberLoss", "delta": -1.0}, r"HuberLoss with arguments \{'delta': -1.0\}"),
        ({"name": "HuberLoss", "beta": 0.5}, r"accepts: reduction, delta"),
        ({"name": "MAE"}, r"no class 'MAE'"),
        (3, r"loss_fn=3 is not a loss"),
        (["HuberLoss"], r"is not a loss.*\{name: HuberLoss, delta: 0.5\}"),
    ],
)
def test_a_bad_loss_setting_says_what_is_wrong(setting, message):
    with pytest.raises(ConfigError, match=message):
        model_kwargs({}, {"loss_fn": setting})
