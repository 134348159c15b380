"""``cnforecast models`` lists exactly the registry, and names a missing dependency."""

from __future__ import annotations

from cnforecast.cli.main import main
from cnforecast.models.registry import MODELS


def test_lists_every_registered_model(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(MODELS)


def test_shows_one_model_defaults(capsys):
    assert main(["models", "circuitnet"]) == 0
    out = capsys.readouterr().out
    assert (
        "circuitnet:" in out
        and "ExponentialLR" in out
        and "covariates: past, future, static" in out
    )


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["models", "nbeats"]) == 2
    out = capsys.readouterr().out
    assert "unknown model 'nbeats'" in out and "circuitnet" in out
