"""The optional torch.compile path of CircuitNet: same outputs as eager, eager fallback."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import torch
from darts.utils.data.torch_datasets.utils import PLModuleInput, TorchTrainingSample

from cnforecast import CircuitNetModel

SMALL = {"d_model": 8, "n_units": 3, "n_neurons": 4, "n_ports": 2, "n_heads": 2}

# inductor compiles C++ (CPU) or Triton (GPU) code and AOT autograd traces the backward:
# minutes on a 2-core CI machine. CI checks the graph capture (dynamo, one full graph, no
# break, dynamic batch) with the "eager" backend; CNFORECAST_TEST_COMPILERS=1 adds
# "aot_eager" and "inductor" (run it on a GPU machine).
BACKENDS = ["eager"] + (
    ["aot_eager", "inductor"] if os.environ.get("CNFORECAST_TEST_COMPILERS") == "1" else []
)


def build(torch_compile, n_targets=3):
    model = CircuitNetModel(24, 6, random_state=0, torch_compile=torch_compile, **SMALL)
    sample = TorchTrainingSample(
        past_target=np.zeros((24, n_targets), np.float32),
        future_target=np.zeros((6, n_targets), np.float32),
    )
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    torch.manual_seed(0)
    module = model._create_model(sample)
    torch.nn.init.normal_(module.readout.head.weight, std=0.1)  # as after training
    return module


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_circuit_gives_the_eager_outputs_and_gradients(backend):
    eager, compiled = build(False), build(backend)
    compiled.load_state_dict(eager.state_dict())
    eager.eval()
    compiled.eval()
    for batch in (5, 9):  # a second shape: dynamic shapes, no silent fallback
        x = PLModuleInput(past_target=torch.randn(batch, 24, 3))
        expected, got = eager(x).prediction, compiled(x).prediction
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert compiled.torch_compile == backend, "compilation fell back to eager"
    expected.square().mean().backward()
    got.square().mean().backward()
    for (name, p), q in zip(eager.named_parameters(), compiled.parameters(), strict=True):
        if p.grad is not None:
            torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_a_failing_compiler_falls_back_to_eager_with_a_warning(caplog, monkeypatch):
    def failing_compile(module, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler found")

        return run

    monkeypatch.setattr(torch, "compile", failing_compile)
    eager, broken = build(False), build("inductor")
    broken.load_state_dict(eager.state_dict())
    eager.eval()
    broken.eval()
    x = PLModuleInput(past_target=torch.randn(4, 24, 3))
    with caplog.at_level(logging.WARNING):
        got = broken(x).prediction
    torch.testing.assert_close(got, eager(x).prediction)
    assert broken.torch_compile is False
    assert "runs eagerly" in caplog.text


def test_unknown_backend_is_refused_at_construction():
    with pytest.raises(ValueError, match=r"not a torch\.compile backend"):
        CircuitNetModel(24, 6, torch_compile="no-such-backend")


def test_a_compiled_model_saves_and_loads(tmp_path, quiet_trainer):
    from darts import TimeSeries

    t = np.arange(120, dtype=np.float32)
    series = TimeSeries.from_values(np.sin(2 * np.pi * t / 12))
    model = CircuitNetModel(
        24,
        6,
        n_epochs=1,
        random_state=0,
        torch_compile="eager",
        pl_trainer_kwargs=quiet_trainer,
        **SMALL,
    )
    model.fit(series)
    path = tmp_path / "model.pt"
    model.save(str(path))
    loaded = CircuitNetModel.load(str(path))
    np.testing.assert_allclose(
        loaded.predict(6, series=series).values(), model.predict(6, series=series).values()
    )
