"""CircuitNet's layers assembled: a window of target values in, the forecast out, plain torch.

:class:`CircuitLayers` builds the layers on a module and runs them; the darts wrapper
(``cnforecast.models.circuitnet``) mixes it into its Lightning module, and
:class:`CircuitNetwork` mixes it into a plain ``nn.Module`` for inference without darts or
Lightning (``cnforecast.inference``). Both hold the layers under the same names, so a
state dict moves from one to the other unchanged.

Shapes (symbols as in :mod:`cnforecast.layers`; ``X``: past and historic future covariate
components, ``F``: future covariate components, ``S``: static covariates per component,
``R``: likelihood parameters):

- ``target`` ``(B, L, C)`` -> forecast ``(B, H, C, R)``,
- ``covariates`` ``(B, L, X)``, ``future`` ``(B, H, F)``, ``static`` ``(B, C or 1, S)``,
- ``phase`` ``(B,)``: the step of the learned cycle at each window's first step (only with
  ``cycle_length``; see :mod:`cnforecast.layers.periodic`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from cnforecast.layers.circuit import Circuit
from cnforecast.layers.config import CircuitConfig
from cnforecast.layers.instance_norm import ReversibleInstanceNorm
from cnforecast.layers.linear_path import LinearPath
from cnforecast.layers.patch_embedding import PatchEmbedding
from cnforecast.layers.periodic import PeriodicComponent
from cnforecast.layers.port_assignment import PortAssignment
from cnforecast.layers.readout import Readout
from cnforecast.layers.variable_exchange import VariableExchange

__all__ = ["LAYER_NAMES", "CircuitLayers", "CircuitNetwork", "NetworkShape"]

logger = logging.getLogger(__name__)

#: The names of the layers on the module (the first part of their state-dict keys).
LAYER_NAMES = (
    "patch_embedding",
    "covariate_embedding",
    "port_assignment",
    "circuit",
    "readout",
    "skip",
    "periodic",
    "exchange",
)


@dataclass(frozen=True)
class NetworkShape:
    """The sizes a network is built for: chunk lengths and covariate widths.

    Examples
    --------
    >>> NetworkShape(96, 24).to_dict()["output_chunk_length"]
    24
    """

    input_chunk_length: int
    output_chunk_length: int
    past_cov_dim: int = 0
    future_cov_dim: int = 0
    static_cov_dim: int = 0
    nr_params: int = 1
    output_chunk_shift: int = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            minimum = 1 if name in ("input_chunk_length", "output_chunk_length", "nr_params") else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkShape:
        return cls(**data)


class CircuitLayers:
    """Builds CircuitNet's layers on an ``nn.Module`` and runs them (a mixin).

    The module must call :meth:`build_layers` in its constructor, after ``nn.Module``'s.
    """

    config: CircuitConfig
    network_shape: NetworkShape
    torch_compile: bool | str

    def build_layers(
        self,
        config: CircuitConfig,
        shape: NetworkShape,
        torch_compile: bool | str = False,
        n_targets: int | None = None,
    ) -> None:
        """Build the layers; ``n_targets`` (C) is needed only with ``config.cycle_length`` or
        ``config.variable_exchange``."""
        for option in ("cycle_length", "variable_exchange"):
            if getattr(config, option) and n_targets is None:
                raise ValueError(f"a network with {option} needs n_targets (the components C)")
        self.config = config
        self.network_shape = shape
        self.torch_compile = torch_compile
        self._compiled: list = []  # the compiled circuit, kept out of the module tree
        lookback, horizon, d = shape.input_chunk_length, shape.output_chunk_length, config.d_model
        self.patch_embedding = PatchEmbedding(lookback, config.patch_len, config.stride, 1, d)
        n_patches = self.patch_embedding.n_patches
        # past and historic future covariates: embedded per patch, added to every component
        self.covariate_embedding = (
            PatchEmbedding(
                lookback, config.patch_len, config.stride, shape.past_cov_dim, d, positional=False
            )
            if shape.past_cov_dim
            else None
        )
        self.port_assignment = PortAssignment(n_patches, config.n_units, config.n_ports)
        self.circuit = Circuit(config)
        self.readout = Readout(
            n_units=config.n_units,
            unit_features=config.read_neurons * d,
            horizon=horizon,
            steps=config.circuit_steps(lookback, horizon),
            nr_params=shape.nr_params,
            rank=config.readout_rank,
            future_cov_dim=shape.future_cov_dim,
            static_cov_dim=shape.static_cov_dim,
            hidden=d,
            dropout=config.dropout,
            zero_start=config.readout_init == "zero",
        )
        # the linear path from the (normalised) window straight to the horizon
        self.skip = (
            LinearPath(lookback, horizon * shape.nr_params, config.linear_gain)
            if config.linear_skip
            else None
        )
        # the learned cycle of each target component (CycleNet's residual cycle forecasting)
        self.periodic = (
            PeriodicComponent(config.cycle_length, n_targets, config.cycle_gain)
            if config.cycle_length and n_targets is not None
            else None
        )
        # messages across the target components, with queries on the same cycle
        self.exchange = (
            VariableExchange(
                lookback,
                n_targets,
                d,
                config.n_heads,
                cycle_length=config.cycle_length or 1,
                dropout=config.dropout,
            )
            if config.variable_exchange and n_targets is not None
            else None
        )

    def _run_circuit(self, ports: torch.Tensor) -> torch.Tensor:
        """The circuit, through ``torch.compile`` when asked and possible, else eagerly."""
        if not self.torch_compile:
            return self.circuit(ports)
        if not self._compiled:
            backend = "inductor" if self.torch_compile is True else self.torch_compile
            self._compiled.append(
                torch.compile(self.circuit, backend=backend, dynamic=True, fullgraph=True)
            )
        try:
            return self._compiled[0](ports)
        except Exception as error:  # no compiler, unsupported device or operator, ...
            logger.warning(
                "torch.compile failed (%s: %s); CircuitNet runs eagerly instead.",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
            self.torch_compile = False
            return self.circuit(ports)

    def run_layers(
        self,
        target: torch.Tensor,
        covariates: torch.Tensor | None = None,
        future: torch.Tensor | None = None,
        static: torch.Tensor | None = None,
        phase: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, L, C)`` target windows (and covariates) -> ``(B, H, C, R)`` forecasts.

        G = B * C sequences: the target components are processed channel-independently.
        """
        b, lookback, c = target.shape
        if self.periodic is not None:
            if phase is None:
                raise ValueError("this network was built with cycle_length: pass the phase")
            # (B, L, C): what the cycle does not explain
            target = target - self.periodic(phase, 0, lookback)
        if self.exchange is not None:
            # (B, L, C) -> (B, L, C): each component's window reads the others'; without
            # a cycle every window is at phase 0 of a one-step cycle
            if phase is None:
                phase = torch.zeros(b, dtype=torch.long, device=target.device)
            target = self.exchange(target, phase)
        # (B, L, C) -> (B, C, L) -> (G, L, 1)
        sequences = target.transpose(1, 2).reshape(b * c, -1, 1)
        # (G, L, 1) -> (G, Np, D)
        patches = self.patch_embedding(sequences)
        if self.covariate_embedding is not None:
            if covariates is None:
                raise ValueError("this network was built with past covariates: pass them")
            # (B, L, X) -> (B, Np, D) -> (B, 1, Np, D), added to (B, C, Np, D) -> (G, Np, D)
            cov = self.covariate_embedding(covariates).unsqueeze(1)
            patches = (patches.view(b, c, *patches.shape[1:]) + cov).flatten(0, 1)
        # (G, Np, D) -> (G, M, P, D)
        ports = self.port_assignment(patches)
        # (G, M, P, D) -> (G, M, N, D)
        states = self._run_circuit(ports)
        if self.config.readout == "ports":
            # output ports only: (G, M, N, D) -> (G, M, P, D)
            states = states[:, :, -self.config.n_ports :]
        if future is not None:
            # (B, H, F) -> (G, H, F): the same future covariates for every component
            future = future.repeat_interleave(c, dim=0)
        if static is not None:
            # (B, C or 1, S) -> (B, C, S) -> (G, S): a component's own static covariates
            static = static.expand(b, c, -1).reshape(b * c, -1)
        # (G, M, K, D) -> (G, H, R)
        out = self.readout(states, future, static)
        if self.skip is not None:
            # (G, L, 1) -> (G, L) -> (G, H * R) -> (G, H, R)
            out = out + self.skip(sequences.squeeze(-1)).view_as(out)
        horizon, nr_params = self.network_shape.output_chunk_length, self.network_shape.nr_params
        # (G, H, R) -> (B, C, H, R) -> (B, H, C, R)
        out = out.view(b, c, horizon, nr_params).transpose(1, 2)
        if self.periodic is not None:
            # the cycle over the forecast steps, (B, H, C) -> (B, H, C, 1): added to every
            # parameter (point forecasts and quantiles are all locations)
            start = lookback + self.network_shape.output_chunk_shift
            out = out + self.periodic(phase, start, horizon).unsqueeze(-1)
        return out


class CircuitNetwork(CircuitLayers, nn.Module):
    """CircuitNet as a plain torch module: no darts, no Lightning.

    Parameters
    ----------
    config
        The circuit's hyper-parameters.
    shape
        Chunk lengths and covariate widths.
    n_targets
        Target components C; needed only with ``instance_norm``.
    instance_norm
        Reversible instance normalisation of each target window (as darts'
        ``use_reversible_instance_norm``): ``None`` for none, else the keywords of
        :class:`~cnforecast.layers.instance_norm.ReversibleInstanceNorm` (``eps``, ``affine``).
    torch_compile
        Run the circuit through ``torch.compile`` (see ``CircuitNetModel``).

    Examples
    --------
    >>> net = CircuitNetwork(CircuitConfig(d_model=8, n_heads=2), NetworkShape(32, 8))
    >>> tuple(net(torch.randn(5, 32, 3)).shape)
    (5, 8, 3, 1)
    """

    def __init__(
        self,
        config: CircuitConfig,
        shape: NetworkShape,
        n_targets: int | None = None,
        instance_norm: dict[str, Any] | None = None,
        torch_compile: bool | str = False,
    ) -> None:
        nn.Module.__init__(self)
        self.build_layers(config, shape, torch_compile, n_targets)
        if instance_norm is not None and n_targets is None:
            raise ValueError("instance_norm needs n_targets (the target components C)")
        self.n_targets = n_targets
        self.rin = (
            ReversibleInstanceNorm(n_targets, **instance_norm)
            if instance_norm is not None and n_targets is not None
            else None
        )

    def forward(
        self,
        target: torch.Tensor,
        covariates: torch.Tensor | None = None,
        future: torch.Tensor | None = None,
        static: torch.Tensor | None = None,
        phase: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, L, C)`` -> ``(B, H, C, R)``; see the module's shape table."""
        if self.n_targets is not None and target.shape[2] != self.n_targets:
            raise ValueError(
                f"the network forecasts {self.n_targets} target component(s), got windows "
                f"with {target.shape[2]}"
            )
        if self.rin is None:
            return self.run_layers(target, covariates, future, static, phase)
        normed, stats = self.rin(target)
        return self.rin.inverse(self.run_layers(normed, covariates, future, static, phase), stats)
