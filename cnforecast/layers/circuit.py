"""The circuit: units with their neurons, wired sparsely, over several rounds."""

from __future__ import annotations

import torch
from torch import nn

from cnforecast.layers.config import CircuitConfig
from cnforecast.layers.motif_unit import CircuitMotifUnits
from cnforecast.layers.port_exchange import PortExchange
from cnforecast.layers.wiring import CircuitGraph, build_wiring


def mixing_matrix(adjacency: torch.Tensor) -> torch.Tensor:
    """``(M, M)`` row-normalised wiring: the mean over each unit's incoming links."""
    weights = adjacency.float()
    return weights / weights.sum(dim=1, keepdim=True).clamp(min=1.0)


class Circuit(nn.Module):
    """``T`` rounds of (inside step of every unit, port exchange between units).

    Non-port neurons start from learned states; input-port neurons start from their
    learned state plus the signal assigned to the port. The wiring (``adjacency``) is a
    persistent buffer: it is saved with the weights and restored on load, and the mixing
    matrix derived from it is rebuilt whenever it is loaded (never in ``forward``).

    Parameters
    ----------
    config
        ``M``, ``N``, ``P``, ``D``, ``T`` (each round has its own weights), the random
        long-range links ``k`` and their seed, and the settings of the units.
    """

    def __init__(self, config: CircuitConfig) -> None:
        super().__init__()
        m, n, d = config.n_units, config.n_neurons, config.d_model
        self.n_ports = config.n_ports
        self.initial_states = nn.Parameter(torch.randn(m, n, d) * 0.02)
        adjacency = build_wiring(m, config.n_links, config.wiring_seed)
        self.register_buffer("adjacency", adjacency)
        self.register_buffer("mixing", mixing_matrix(adjacency), persistent=False)
        self.units = nn.ModuleList(CircuitMotifUnits(config) for _ in range(config.n_rounds))
        self.exchanges = nn.ModuleList(
            PortExchange(d, config.n_ports) for _ in range(config.n_rounds)
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.mixing = mixing_matrix(self.adjacency).to(self.mixing.device)

    def graph(self) -> CircuitGraph:
        """The wiring as a :class:`~cnforecast.layers.wiring.CircuitGraph`."""
        return CircuitGraph.from_adjacency(self.adjacency)

    def forward(self, port_inputs: torch.Tensor) -> torch.Tensor:
        """Run the circuit.

        Parameters
        ----------
        port_inputs
            ``(G, M, P, D)`` signals for the input ports.

        Returns
        -------
        torch.Tensor
            ``(G, M, N, D)`` final neuron states.
        """
        n = self.initial_states.shape[1]
        # (G, M, P, D) -> (G, M, N, D), zeros on the non-port neurons, plus the learned
        # starting states (M, N, D) broadcast over G
        h = nn.functional.pad(port_inputs, (0, 0, 0, n - self.n_ports)) + self.initial_states
        mixing = self.mixing.to(h.dtype)
        for unit_step, exchange in zip(self.units, self.exchanges, strict=True):
            h = exchange(unit_step(h), mixing)
        return h
