"""``cnforecast datasets``: list, info, verify, path."""

from __future__ import annotations

import pytest

from cnforecast.cli.main import COMMAND_MODULES, main
from cnforecast.datasets import DATASETS, get_dataset_info, paths, write_synthetic_dataset


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty data and cache folders, no repository folder."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv(paths.ENV_DATA, str(data))
    monkeypatch.setenv(paths.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(paths.ENV_OFFLINE, raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "no-repo")
    return data


def test_command_is_registered():
    assert "cnforecast.cli.datasets_cmd" in COMMAND_MODULES


def test_list_agrees_with_the_registry(env, capsys):
    write_synthetic_dataset("Exchange", env, 5)
    assert main(["datasets", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == list(DATASETS)
    exchange = next(line for line in lines if line.startswith("Exchange"))
    assert str(env / "exchange_rate.csv") in exchange
    assert "not found" in next(line for line in lines if line.startswith("ETTh1"))


def test_info(env, capsys):
    assert main(["datasets", "info", "etth1"]) == 0
    out = capsys.readouterr().out
    info = get_dataset_info("ETTh1")
    assert info.sha256 in out and info.url in out and "CC BY-ND 4.0" in out
    assert "train 8640, val 2880, test 2880" in out


def test_info_unknown_name(env, capsys):
    assert main(["datasets", "info", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown data set 'nope'" in err and "Electricity" in err


def test_verify_reports_found_missing_and_mismatched(env, capsys):
    write_synthetic_dataset("Exchange", env, get_dataset_info("Exchange").n_rows)
    assert main(["datasets", "verify"]) == 0
    out = capsys.readouterr().out
    assert "Exchange     structure ok, checksum unknown" in out
    for name in DATASETS:
        if name != "Exchange":
            assert f"{name:<12} missing" in out

    write_synthetic_dataset("ETTh1", env, 10)  # not the published file
    assert main(["datasets", "verify"]) == 1
    out = capsys.readouterr().out
    assert "ETTh1        FAILED: checksum mismatch" in out
    assert main(["datasets", "verify", "exchange"]) == 0
    capsys.readouterr()


def test_verify_a_missing_named_data_set_fails(env, capsys):
    assert main(["datasets", "verify", "Traffic"]) == 1
    captured = capsys.readouterr()
    assert "Traffic      missing" in captured.out
    assert "datasets info Traffic" in captured.err


def test_verify_malformed_file_without_checksum_fails(env, capsys):
    write_synthetic_dataset("Exchange", env, 30)
    assert main(["datasets", "verify", "Exchange"]) == 1
    assert "30 data rows where the published Exchange file has 7588" in capsys.readouterr().out


@pytest.mark.data
def test_verify_the_real_files(env, benchmark_data_dir, capsys):
    assert main(["datasets", "verify", "ETTh1", "--path", str(benchmark_data_dir)]) == 0
    assert f"ok (sha256 {get_dataset_info('ETTh1').sha256})" in capsys.readouterr().out


def test_path(env, capsys, monkeypatch):
    file = write_synthetic_dataset("Electricity", env, 5)
    assert main(["datasets", "path", "electricity"]) == 0
    assert capsys.readouterr().out.strip() == str(file)

    monkeypatch.setenv(paths.ENV_OFFLINE, "1")
    assert main(["datasets", "path", "ETTm2"]) == 1
    err = capsys.readouterr().err
    assert "CNFORECAST_OFFLINE is set" in err and "ETTm2.csv" in err
    assert main(["datasets", "path", "ETTm2", "--no-download"]) == 1
    capsys.readouterr()
