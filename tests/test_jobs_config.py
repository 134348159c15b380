"""The typed training configuration: YAML files, unknown keys, types, precedence."""

from __future__ import annotations

import pytest

from cnforecast.jobs.config import FitConfig
from cnforecast.jobs.errors import ConfigError


def test_yaml_file(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("model: dlinear\nepochs: 3\nmodel_kwargs:\n  kernel_size: 5\n")
    config = FitConfig.from_yaml(path)
    assert (config.model, config.epochs, config.model_kwargs) == ("dlinear", 3, {"kernel_size": 5})


def test_unknown_key_lists_allowed_keys_and_suggests(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("epoch: 3\n")
    with pytest.raises(ConfigError) as info:
        FitConfig.from_yaml(path)
    message = str(info.value)
    assert "unknown key 'epoch'; did you mean 'epochs'?" in message
    assert "Allowed keys: model, input_chunk_length" in message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"epochs": "ten"}, "epochs must be of type"),
        ({"scale": "yes"}, "scale must be of type bool"),
        ({"input_chunk_length": 0}, "input_chunk_length must be at least 1"),
        ({"fill": "mean"}, "fill must be one of"),
        ({"likelihood": "quantile", "quantiles": [0.1, 0.9]}, "include 0.5"),
        ({"early_stopping_patience": 3}, "needs a validation set"),
        ({"target_cols": "a,b"}, "target_cols must be of type"),
    ],
)
def test_bad_values(data, message):
    with pytest.raises(ConfigError, match=message):
        FitConfig.from_dict(data)


def test_not_a_mapping(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        FitConfig.from_yaml(path)


def test_flags_override_file_values_and_none_keeps_them():
    config = FitConfig(epochs=3, lr=0.01).merged({"epochs": 5, "lr": None})
    assert (config.epochs, config.lr) == (5, 0.01)


def test_columns_are_required_for_a_job():
    with pytest.raises(ConfigError, match="--time-col and --target-cols"):
        FitConfig().columns()
