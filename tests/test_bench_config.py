"""The benchmark configuration: typed, unknown keys rejected, example files valid."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from cnforecast.bench.config import (
    BenchConfig,
    ConfigError,
    ModelConfig,
    config_from_dict,
    deep_merge,
    load_config,
)
from cnforecast.datasets import get_dataset_info
from cnforecast.models.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def test_unknown_top_level_key_is_rejected_with_the_allowed_keys():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"models": ["dlinear"], "datasets": ["ETTh1"], "epochs": 3})
    message = str(err.value)
    assert "'epochs'" in message
    for key in ("models", "datasets", "horizons", "lookback", "seeds", "max_epochs", "patience"):
        assert key in message


def test_unknown_model_key_is_rejected_with_the_allowed_keys():
    with pytest.raises(ConfigError, match=r"'kwarg'.*allowed keys: name, label, preset, kwargs"):
        config_from_dict({"models": [{"name": "dlinear", "kwarg": {}}], "datasets": ["ETTh1"]})


def test_unknown_key_in_a_file_is_rejected(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("models: [dlinear]\ndatasets: [ETTh1]\nhorizon: 96\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'horizon'.*allowed keys"):
        load_config(path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"horizons": [96, -1]}, "positive"),
        ({"horizons": [96, 96]}, "duplicates"),
        ({"lookback": 0}, "positive"),
        ({"accelerator": "tpu"}, "accelerator"),
        ({"models": ["dlinear", "dlinear"]}, "unique"),
        ({"models": [{"label": "x"}]}, "no 'name'"),
        ({"patience": -1}, "patience"),
    ],
)
def test_bad_values_are_rejected(changes, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"models": ["dlinear"], "datasets": ["ETTh1"], **changes})


def test_defaults_are_the_literature_protocol():
    cfg = config_from_dict({"models": ["dlinear"], "datasets": "ETTh1"})
    assert cfg.horizons == (96, 192, 336, 720)
    assert (cfg.lookback, cfg.max_epochs, cfg.patience, cfg.restore_best) == (96, 10, 3, True)
    assert cfg.datasets == ("ETTh1",)


def test_resolved_kwargs_merge_defaults_presets_budget_and_overrides():
    spec = MODELS["transformer"]
    entry = ModelConfig.from_value(
        {
            "name": "transformer",
            "kwargs": {"optimizer_kwargs": {"weight_decay": 0.1}, "lr_scheduler_cls": "StepLR"},
        }
    )
    kwargs = entry.resolved_kwargs(spec.defaults, spec.test_settings, max_epochs=4)
    assert kwargs["n_epochs"] == 4 and kwargs["d_model"] == 512
    assert kwargs["optimizer_kwargs"] == {"lr": 1e-4, "weight_decay": 0.1}  # merged
    assert kwargs["lr_scheduler_cls"] is torch.optim.lr_scheduler.StepLR
    tiny = ModelConfig("transformer", preset="test").resolved_kwargs(
        spec.defaults, spec.test_settings, max_epochs=1
    )
    assert tiny["d_model"] == spec.test_settings["d_model"] and tiny["n_epochs"] == 1
    explicit = ModelConfig("circuitnet", kwargs={"n_epochs": 2, "motifs": ["linear"]})
    resolved = explicit.resolved_kwargs({}, {}, max_epochs=9)
    assert resolved["n_epochs"] == 2 and resolved["motifs"] == ("linear",)
    with pytest.raises(ConfigError, match="no class"):
        ModelConfig("dlinear", kwargs={"optimizer_cls": "NoSuchOptim"}).resolved_kwargs({}, {})


def test_deep_merge_does_not_alias_its_inputs():
    base = {"opt": {"lr": 1.0}}
    merged = deep_merge(base, {"opt": {"eps": 2.0}})
    merged["opt"]["lr"] = 5.0
    assert base == {"opt": {"lr": 1.0}}


def test_replace_and_round_trip():
    cfg = config_from_dict(
        {
            "models": ["dlinear", {"name": "tide", "horizons": [96]}],
            "datasets": ["ETTh1"],
            "seeds": [0, 1],
        }
    )
    assert cfg.n_runs() == (4 + 1) * 2
    again = config_from_dict(cfg.to_dict())
    assert again == cfg
    assert cfg.replace(max_epochs=2, out=None).max_epochs == 2
    with pytest.raises(ConfigError, match="unknown key"):
        cfg.replace(epochs=2)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    cfg = load_config(path)
    assert isinstance(cfg, BenchConfig)
    for model in cfg.models:
        assert model.name in MODELS
    for name in cfg.datasets:
        get_dataset_info(name)  # raises for an unknown data set


def test_ablation_config_covers_every_motif_subset():
    cfg = load_config(CONFIGS / "ablation_etth1.yaml")
    motifs = ("linear", "attention", "product")
    expected = {frozenset(c) for r in (1, 2, 3) for c in itertools.combinations(motifs, r)}
    got = {frozenset(m.kwargs["motifs"]) for m in cfg.models}
    assert got == expected and len(cfg.models) == 7
    for m in cfg.models:
        assert m.name == "circuitnet"
        assert m.label == f"circuitnet[{'+'.join(m.kwargs['motifs'])}]"


def test_quickstart_is_circuitnet_vs_dlinear_on_etth1():
    cfg = load_config(CONFIGS / "quickstart.yaml")
    assert [m.name for m in cfg.models] == ["circuitnet", "dlinear"]
    assert (cfg.datasets, cfg.horizons, cfg.lookback) == (("ETTh1",), (96,), 96)
