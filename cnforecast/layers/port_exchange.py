"""Messages between units: output ports of a unit to the input ports of the units it feeds."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class PortExchange(nn.Module):
    """One exchange of messages along the unit graph.

    Output port ``p`` of unit ``u`` sends ``W_msg h`` to input port ``p`` of every unit
    ``v`` that ``u`` is wired to; messages arriving at a port are averaged and added to its
    state (the next round's inside step normalises it). Input ports are the first ``P``
    neurons of a unit, output ports the last ``P``. All units exchange in one matrix
    product with the ``(M, M)`` row-normalised wiring matrix.

    Parameters
    ----------
    d_model, n_ports
        ``D`` and ``P``.
    """

    def __init__(self, d_model: int, n_ports: int) -> None:
        super().__init__()
        self.n_ports = n_ports
        self.message = nn.Linear(d_model, d_model)

    def forward(self, h: torch.Tensor, mixing: torch.Tensor) -> torch.Tensor:
        """Exchange messages.

        Parameters
        ----------
        h
            ``(G, M, N, D)`` neuron states.
        mixing
            ``(M, M)`` wiring matrix, ``mixing[v, u] = 1 / in_degree(v)`` when ``u`` feeds
            ``v``, else 0.

        Returns
        -------
        torch.Tensor
            ``(G, M, N, D)`` states, messages added to the input ports.
        """
        g, m, n, d = h.shape
        p = self.n_ports
        # output ports: (G, M, N, D) -> (G, M, P, D) -> messages (G, M, P * D)
        messages = self.message(h[:, :, n - p :]).reshape(g, m, p * d)
        # (M, M) @ (G, M, P * D) -> (G, M, P * D) -> (G, M, P, D): mean over incoming units
        incoming = torch.matmul(mixing, messages).view(g, m, p, d)
        # (G, M, P, D) -> (G, M, N, D), zeros on the neurons that are not input ports
        return h + F.pad(incoming, (0, 0, 0, n - p))
