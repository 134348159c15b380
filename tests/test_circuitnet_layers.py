"""Unit tests of the CircuitNet building blocks: shapes, motif terms, gradients, wiring."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from darts.utils.data.torch_datasets.utils import PLModuleInput, TorchTrainingSample
from darts.utils.likelihood_models import GaussianLikelihood, QuantileRegression
from torch.nn import functional as F

from cnforecast import CircuitNetModel
from cnforecast.layers import (
    MOTIFS,
    AttentionMotif,
    Circuit,
    CircuitConfig,
    CircuitMotifUnits,
    PatchEmbedding,
    PortAssignment,
    Readout,
    build_wiring,
    patch_count,
)

SMALL = {
    "d_model": 8,
    "n_units": 3,
    "n_neurons": 4,
    "n_ports": 2,
    "n_heads": 2,
    "patch_len": 4,
    "stride": 3,
}


def build_module(lookback, horizon, n_targets, past=0, future=0, static=0, static_rows=1, **kw):
    """A CircuitNet Lightning module built, as darts builds it, from a training sample."""
    model = CircuitNetModel(lookback, horizon, random_state=0, **{**SMALL, **kw})
    sample = TorchTrainingSample(
        past_target=np.zeros((lookback, n_targets), np.float32),
        past_covariates=np.zeros((lookback, past), np.float32) if past else None,
        historic_future_covariates=np.zeros((lookback, future), np.float32) if future else None,
        future_covariates=np.zeros((horizon, future), np.float32) if future else None,
        static_covariates=np.zeros((static_rows, static), np.float32) if static else None,
        future_target=np.zeros((horizon, n_targets), np.float32),
    )
    model.train_sample = sample
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    torch.manual_seed(0)
    return model._create_model(sample)


def as_trained(module):
    """The read-out's last map starts at zero (a fresh circuit adds nothing to the linear
    path); give it the non-zero weights it has after training, so the circuit shows."""
    torch.nn.init.normal_(module.readout.head.weight, std=0.1)
    return module


def module_input(batch, lookback, horizon, n_targets, past=0, future=0, static=0, static_rows=1):
    g = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.randn(*shape, generator=g)

    return PLModuleInput(
        past_target=rand(batch, lookback, n_targets),
        past_covariates=rand(batch, lookback, past) if past else None,
        historic_future_covariates=rand(batch, lookback, future) if future else None,
        future_covariates=rand(batch, horizon, future) if future else None,
        static_covariates=rand(batch, static_rows, static) if static else None,
    )


@pytest.mark.parametrize(
    ("lookback", "horizon", "n_targets", "past", "future", "static", "static_rows", "nr_params"),
    [
        (37, 1, 1, 0, 0, 0, 1, 1),  # L not a multiple of the patch, H = 1, C = 1
        (37, 5, 5, 0, 0, 0, 1, 1),  # C = 5
        (23, 7, 5, 2, 3, 2, 5, 1),  # every covariate kind, static per component
        (10, 3, 2, 1, 0, 4, 1, 2),  # window shorter than... several patches; global static
        (3, 2, 1, 0, 1, 0, 1, 2),  # window shorter than one patch
    ],
)
def test_forward_shape_at_odd_sizes(
    lookback, horizon, n_targets, past, future, static, static_rows, nr_params
):
    likelihood = GaussianLikelihood() if nr_params == 2 else None
    module = build_module(
        lookback, horizon, n_targets, past, future, static, static_rows, likelihood=likelihood
    )
    batch = 3
    x = module_input(batch, lookback, horizon, n_targets, past, future, static, static_rows)
    out = module(x).prediction
    assert out.shape == (batch, horizon, n_targets, nr_params)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("nr_params", [1, 3])
def test_linear_skip_adds_a_window_to_horizon_path(nr_params):
    likelihood = None if nr_params == 1 else QuantileRegression([0.1, 0.5, 0.9])
    module = build_module(30, 5, 2, linear_skip=True, likelihood=likelihood).eval()
    assert module.skip.in_features == 30
    assert module.skip.out_features == 5 * nr_params
    x = module_input(2, 30, 5, 2)
    with torch.no_grad():
        before = module(x).prediction
        module.skip.weight.zero_()
        module.skip.bias.zero_()
        after = module(x).prediction
    assert before.shape == after.shape == (2, 5, 2, nr_params)
    assert not torch.allclose(before, after)


def test_components_are_processed_independently_with_shared_weights():
    module = build_module(24, 4, 3, use_reversible_instance_norm=False).eval()
    x = module_input(2, 24, 4, 3)
    full = module(x).prediction
    alone = module(PLModuleInput(past_target=x.past_target[:, :, 1:2])).prediction
    torch.testing.assert_close(full[:, :, 1:2], alone)


@pytest.mark.parametrize("dropped", MOTIFS)
def test_each_motif_term_changes_the_output(dropped):
    module = as_trained(build_module(24, 4, 2)).eval()
    x = module_input(2, 24, 4, 2)
    with torch.no_grad():
        before = module(x).prediction
        for unit_step in module.circuit.units:
            del unit_step.terms[dropped]
        after = module(x).prediction
    assert not torch.allclose(before, after, atol=1e-6)


@pytest.mark.parametrize("motifs", [("linear",), ("attention",), ("product",), "linear+product"])
def test_motif_subsets_build_only_their_terms(motifs):
    module = build_module(24, 4, 1, motifs=motifs)
    expected = set(motifs.split("+")) if isinstance(motifs, str) else set(motifs)
    for unit_step in module.circuit.units:
        assert set(unit_step.terms) == expected
    assert module(module_input(2, 24, 4, 1)).prediction.shape == (2, 4, 1, 1)


def test_every_parameter_gets_a_gradient():
    module = as_trained(build_module(20, 4, 3, past=2, future=1, static=2, static_rows=3))
    x = module_input(4, 20, 4, 3, past=2, future=1, static=2, static_rows=3)
    module(x).prediction.square().mean().backward()
    missing = [
        name
        for name, p in module.named_parameters()
        if p.grad is None or not torch.any(p.grad != 0)
    ]
    assert missing == []


@pytest.mark.parametrize("n_units", [1, 2, 3, 5, 16, 64])
@pytest.mark.parametrize("n_links", [0, 1, 3])
def test_in_degree_is_bounded_whatever_the_number_of_units(n_units, n_links):
    adjacency = build_wiring(n_units, n_links, seed=7)
    in_degree = adjacency.sum(dim=1)
    assert int(in_degree.max()) <= n_links + 2
    assert not adjacency.diagonal().any(), "a unit must not feed itself"
    for v in range(n_units):  # neighbours in time are always wired
        for u in (v - 1, v + 1):
            if 0 <= u < n_units:
                assert adjacency[v, u]
    # as many random links as there are free candidates, up to n_links
    neighbours = torch.tensor([int(v > 0) + int(v < n_units - 1) for v in range(n_units)])
    expected = neighbours + torch.clamp(n_units - 1 - neighbours, max=n_links)
    assert torch.equal(in_degree, expected)


def test_wiring_depends_on_the_seed_only():
    assert torch.equal(build_wiring(12, 2, seed=3), build_wiring(12, 2, seed=3))
    assert not torch.equal(build_wiring(12, 2, seed=3), build_wiring(12, 2, seed=4))


def test_patch_embedding_covers_the_whole_window():
    emb = PatchEmbedding(lookback=25, patch_len=4, stride=3, in_features=1, d_model=6)
    assert emb.n_patches == patch_count(25, 4, 3) == 8
    x = torch.zeros(2, 25, 1)
    x[:, -1] = 1.0  # only the last step is non-zero: the last patch must see it
    with torch.no_grad():
        emb.position.zero_()
        out = emb(x) - emb.proj.bias
    assert torch.allclose(out[:, :-1], torch.zeros_like(out[:, :-1]))
    assert out[:, -1].abs().sum() > 0


@pytest.mark.parametrize(
    ("lookback", "patch_len", "stride"), [(96, 16, 8), (25, 4, 3), (10, 16, 8)]
)
def test_patch_embedding_cuts_the_patches_unfold_cuts(lookback, patch_len, stride):
    # patches are gathered by index (exportable to ONNX); they must be unfold's, in order
    emb = PatchEmbedding(lookback, patch_len, stride, in_features=2, d_model=4)
    x = torch.randn(3, lookback, 2)
    padded = F.pad(x.transpose(1, 2), (0, emb.pad), mode="replicate")
    expected = (
        padded.unfold(-1, patch_len, stride).permute(0, 2, 1, 3).reshape(3, emb.n_patches, -1)
    )
    with torch.no_grad():
        assert torch.equal(emb(x), emb.proj(expected) + emb.position)
    assert "steps" not in emb.state_dict()  # saved models keep their keys


def test_port_assignment_keeps_time_order():
    assign = PortAssignment(n_patches=6, n_units=3, n_ports=2)
    patches = torch.arange(6, dtype=torch.float32).view(1, 6, 1)
    ports = assign(patches)  # (1, 3, 2, 1)
    assert ports.shape == (1, 3, 2, 1)
    assert ports.flatten().tolist() == [0, 1, 2, 3, 4, 5]


def test_attention_stays_inside_each_unit():
    attention = AttentionMotif(d_model=8, n_heads=2, dropout=0.0).eval()
    h = torch.randn(2, 3, 4, 8)
    changed = h.clone()
    changed[:, 2] += 5.0  # perturb unit 2 only
    with torch.no_grad():
        a, b = attention(h, h, h, h), attention(changed, changed, changed, changed)
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2], b[:, 2])


def test_attention_is_softmax_attention_among_the_neurons_of_a_unit():
    attention = AttentionMotif(d_model=8, n_heads=2, dropout=0.0).eval()
    q, k, v = (torch.randn(3, 5, 4, 8) for _ in range(3))

    def split(x):  # (G, M, N, D) -> (G * M, heads, N, D / heads)
        return x.reshape(15, 4, 2, 4).transpose(1, 2)

    expected = torch.nn.functional.scaled_dot_product_attention(split(q), split(k), split(v))
    expected = expected.transpose(1, 2).reshape(3, 5, 4, 8)
    with torch.no_grad():
        torch.testing.assert_close(attention(q, q, k, v), expected)  # what the CPU runs
        torch.testing.assert_close(attention._fused(q, k, v), expected)  # a GPU's fused kernel
        # the batched matrix products: on the CPU, and past the fused kernel's batch limit
        torch.testing.assert_close(attention._matmul(q, k, v), expected)


def test_one_fused_projection_feeds_every_motif_term():
    config = CircuitConfig(d_model=8, n_units=3, n_neurons=4, n_ports=2, n_heads=2)
    steps = CircuitMotifUnits(config)
    # linear (1 map) + attention (3: query, key, value) + product (1)
    assert steps.projection.weight.shape == (5 * 8, 8)
    linear_only = CircuitMotifUnits(CircuitConfig(**{**config.as_dict(), "motifs": "linear"}))
    assert linear_only.projection.weight.shape == (8, 8)


def test_unit_step_has_no_cross_unit_signal_and_exchange_follows_the_wiring():
    config = CircuitConfig(
        n_units=4, n_neurons=3, n_ports=1, d_model=8, n_rounds=1, n_links=0, n_heads=2, dropout=0.0
    )
    circuit = Circuit(config).eval()
    steps = CircuitMotifUnits(config).eval()
    h = torch.randn(2, 4, 3, 8)
    changed = h.clone()
    changed[:, 0] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(steps(h)[:, 1:], steps(changed)[:, 1:])
        ports = torch.randn(2, 4, 1, 8)
        moved = ports.clone()
        moved[:, 0] += 1.0
        # unit 0 feeds unit 1 only (chain wiring, no random links): units 2 and 3 unchanged
        a, b = circuit(ports), circuit(moved)
    assert not torch.allclose(a[:, 1], b[:, 1])
    torch.testing.assert_close(a[:, 2:], b[:, 2:])


def test_parameters_do_not_grow_with_the_number_of_components():
    def count(module):  # darts' RINorm keeps an affine pair per component: not ours
        return sum(
            p.numel() for name, p in module.named_parameters() if not name.startswith("rin.")
        )

    assert count(build_module(24, 4, 1)) == count(build_module(24, 4, 9))


@pytest.mark.parametrize(("rank", "readout"), [(4, "all"), (4, "ports"), (None, "all")])
def test_factorised_readout_shape_and_weights(rank, readout):
    module = build_module(24, 7, 2, readout_rank=rank, readout=readout, likelihood=None)
    read = SMALL["n_neurons"] if readout == "all" else SMALL["n_ports"]
    unit_features = read * SMALL["d_model"]
    m = SMALL["n_units"]
    expected = (
        unit_features * rank + rank + m * rank * 7 + 7
        if rank is not None
        else m * unit_features * 7 + 7
    )
    assert sum(p.numel() for p in module.readout.parameters()) == expected
    out = module.readout(torch.randn(5, m, read, SMALL["d_model"]))
    assert out.shape == (5, 7, 1)


def test_readout_starts_at_zero_so_a_fresh_model_is_its_linear_path():
    module = build_module(24, 6, 3, use_reversible_instance_norm=False).eval()
    x = module_input(2, 24, 6, 3)
    with torch.no_grad():
        out = module(x).prediction[..., 0]  # (B, H, C)
        # (B, L, C) -> (B, C, L) -> (B, C, H) -> (B, H, C)
        linear = module.skip(x.past_target.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(out, linear)


def test_a_random_readout_start_changes_the_head_and_nothing_else():
    zero = build_module(24, 6, 3, use_reversible_instance_norm=False).eval()
    drawn = build_module(24, 6, 3, use_reversible_instance_norm=False, readout_init="random").eval()
    zero_state, drawn_state = zero.state_dict(), drawn.state_dict()
    assert zero_state.keys() == drawn_state.keys()
    for key, value in zero_state.items():
        if key.startswith("readout.head."):
            assert not value.any() and drawn_state[key].abs().sum() > 0, key
        else:  # the same random numbers were drawn: every other weight starts the same
            torch.testing.assert_close(drawn_state[key], value, rtol=0, atol=0)
    x = module_input(2, 24, 6, 3)
    with torch.no_grad():
        linear = drawn.skip(x.past_target.transpose(1, 2)).transpose(1, 2)
        assert not torch.allclose(drawn(x).prediction[..., 0], linear)


@pytest.mark.parametrize("value", ["ones", None, 0])
def test_a_bad_readout_init_is_refused(value):
    with pytest.raises(ValueError, match=r"readout_init=.* is not one of \('zero', 'random'\)"):
        CircuitConfig(readout_init=value)
    with pytest.raises(ValueError, match="readout_init"):
        CircuitNetModel(24, 6, readout_init=value)


def test_readout_does_not_grow_with_units_times_neurons_times_horizon():
    config = CircuitConfig()
    full = Readout(4, config.n_neurons * config.d_model, 720, 720, 1, None, 0, 0, 64, 0.0)
    factorised = Readout(4, config.n_neurons * config.d_model, 720, 720, 1, 16, 0, 0, 64, 0.0)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(full) > 1_000_000
    assert count(factorised) < 60_000


@pytest.mark.parametrize("n_targets", [7, 321])
def test_default_model_stays_under_a_million_parameters_at_h720(n_targets):
    model = CircuitNetModel(96, 720)
    sample = TorchTrainingSample(
        past_target=np.zeros((96, n_targets), np.float32),
        future_target=np.zeros((720, n_targets), np.float32),
    )
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    module = model._create_model(sample)
    assert sum(p.numel() for p in module.parameters()) < 1_000_000


def test_wide_and_large_batches_past_the_fused_attention_limit():
    """B * C * M * heads above 65,535 (CUDA's memory-efficient attention limit) works: the
    attention switches to batched matrix products, on the CPU as on a GPU."""
    module = build_module(16, 2, 1, d_model=4, n_heads=4, n_units=4, n_neurons=2, n_ports=1)
    # 2 windows of 4,200 components: 2 * 4200 * 4 units * 4 heads = 134,400 batch-heads
    x = PLModuleInput(past_target=torch.randn(2, 16, 4200))
    module(x).prediction.square().mean().backward()
    assert module.patch_embedding.proj.weight.grad is not None


@pytest.mark.parametrize(
    ("steps", "linear_skip", "expected"),
    [(None, True, 24), (10, True, 10), (100, True, 60), (None, False, 60), (10, False, 60)],
)
def test_the_circuit_forecasts_the_first_steps_and_the_linear_path_the_rest(
    steps, linear_skip, expected
):
    assert CircuitConfig(readout_steps=steps, linear_skip=linear_skip).circuit_steps(24, 60) == (
        expected
    )
    module = as_trained(
        build_module(
            24,
            60,
            2,
            readout_steps=steps,
            linear_skip=linear_skip,
            use_reversible_instance_norm=False,
        )
    ).eval()
    assert module.readout.head.out_features == expected
    x = module_input(3, 24, 60, 2)
    with torch.no_grad():
        out = module(x).prediction[..., 0]  # (B, H, C)
        circuit = (
            module.readout(
                module.circuit(
                    module.port_assignment(
                        module.patch_embedding(x.past_target.transpose(1, 2).reshape(6, 24, 1))
                    )
                )
            )[..., 0]
            .view(3, 2, 60)
            .transpose(1, 2)
        )
    assert circuit[:, :expected].abs().sum() > 0
    assert torch.all(circuit[:, expected:] == 0)
    if linear_skip:
        linear = module.skip(x.past_target.transpose(1, 2)).transpose(1, 2)
        torch.testing.assert_close(out, linear + circuit)
