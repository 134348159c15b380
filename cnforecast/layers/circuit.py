"""The circuit: units with their neurons, wired sparsely, over several rounds."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from cnforecast.layers.motif_unit import MOTIFS, CircuitMotifUnits
from cnforecast.layers.port_exchange import PortExchange
from cnforecast.layers.wiring import CircuitGraph, build_wiring


class Circuit(nn.Module):
    """``T`` rounds of (inside step of every unit, port exchange between units).

    Non-port neurons start from learned states; input-port neurons start from their
    learned state plus the signal assigned to the port. The wiring (``adjacency``) is a
    persistent buffer: it is saved with the weights and restored on load.

    Parameters
    ----------
    n_units, n_neurons, n_ports, d_model
        ``M``, ``N``, ``P`` and ``D``.
    n_rounds
        ``T``; every round has its own weights.
    n_links
        Random long-range incoming links per unit (``k``), on top of the neighbours in time.
    wiring_seed
        Seed of the random links.
    n_heads, motifs, dropout, ff_mult
        Passed to :class:`~cnforecast.layers.motif_unit.CircuitMotifUnits`.
    """

    def __init__(
        self,
        n_units: int,
        n_neurons: int,
        n_ports: int,
        d_model: int,
        n_rounds: int,
        n_links: int,
        wiring_seed: int,
        n_heads: int,
        motifs: Iterable[str] = MOTIFS,
        dropout: float = 0.1,
        ff_mult: int = 2,
    ) -> None:
        super().__init__()
        if not 1 <= n_ports <= n_neurons:
            raise ValueError(
                f"n_ports={n_ports} must be between 1 and n_neurons={n_neurons}: ports are "
                "neurons of the unit."
            )
        self.n_ports = n_ports
        self.initial_states = nn.Parameter(torch.randn(n_units, n_neurons, d_model) * 0.02)
        self.register_buffer("adjacency", build_wiring(n_units, n_links, wiring_seed))
        self.units = nn.ModuleList(
            CircuitMotifUnits(n_units, n_neurons, d_model, n_heads, motifs, dropout, ff_mult)
            for _ in range(n_rounds)
        )
        self.exchanges = nn.ModuleList(PortExchange(d_model, n_ports) for _ in range(n_rounds))

    def mixing_matrix(self) -> torch.Tensor:
        """``(M, M)`` row-normalised wiring: the mean over each unit's incoming links."""
        weights = self.adjacency.float()
        return weights / weights.sum(dim=1, keepdim=True).clamp(min=1.0)

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
        g = port_inputs.shape[0]
        # learned starting states (M, N, D) -> (G, M, N, D), ports receive the input
        h = self.initial_states.expand(g, -1, -1, -1)
        h = torch.cat([h[:, :, : self.n_ports] + port_inputs, h[:, :, self.n_ports :]], dim=2)
        mixing = self.mixing_matrix().to(h.dtype)
        for unit_step, exchange in zip(self.units, self.exchanges):
            h = exchange(unit_step(h), mixing)
        return h
