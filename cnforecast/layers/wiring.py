"""The sparse wiring between units: a fixed directed graph, drawn once from a seed."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def build_wiring(n_units: int, n_links: int, seed: int) -> torch.Tensor:
    """Adjacency of the unit graph: ``adjacency[v, u]`` is True when unit ``u`` feeds ``v``.

    Every unit ``v`` receives from its neighbours in time (``v - 1`` and ``v + 1``, where
    they exist) and from ``n_links`` other units drawn at random (without repetition, never
    itself) with a generator seeded by ``seed``. Each unit therefore has at most
    ``n_links + 2`` incoming links, whatever the number of units.

    Examples
    --------
    >>> build_wiring(3, 0, seed=0).int()
    tensor([[0, 1, 0],
            [1, 0, 1],
            [0, 1, 0]], dtype=torch.int32)
    """
    if n_units < 1:
        raise ValueError(f"n_units must be at least 1, got {n_units}")
    if n_links < 0:
        raise ValueError(f"n_links must be zero or more, got {n_links}")
    generator = torch.Generator().manual_seed(int(seed))
    adjacency = torch.zeros(n_units, n_units, dtype=torch.bool)
    index = torch.arange(n_units - 1)
    adjacency[index + 1, index] = True  # u -> u + 1
    adjacency[index, index + 1] = True  # u + 1 -> u
    for v in range(n_units):  # drawn once at construction, not in forward
        candidates = [u for u in range(n_units) if u != v and not adjacency[v, u]]
        if not candidates or not n_links:
            continue
        order = torch.randperm(len(candidates), generator=generator)[:n_links]
        adjacency[v, [candidates[i] for i in order.tolist()]] = True
    return adjacency


@dataclass(frozen=True)
class CircuitGraph:
    """A readable view of a model's unit wiring.

    Attributes
    ----------
    n_units
        Number of units ``M``.
    edges
        ``(source, target, kind)`` for every link, kind ``"neighbour"`` or ``"long-range"``.
    """

    n_units: int
    edges: tuple[tuple[int, int, str], ...]

    @classmethod
    def from_adjacency(cls, adjacency: torch.Tensor) -> CircuitGraph:
        adjacency = adjacency.detach().cpu().bool()
        edges = []
        for target, source in torch.nonzero(adjacency).tolist():
            kind = "neighbour" if abs(target - source) == 1 else "long-range"
            edges.append((source, target, kind))
        return cls(n_units=adjacency.shape[0], edges=tuple(sorted(edges)))

    def adjacency(self) -> torch.Tensor:
        """``(M, M)`` boolean matrix, ``[target, source]``."""
        matrix = torch.zeros(self.n_units, self.n_units, dtype=torch.bool)
        for source, target, _ in self.edges:
            matrix[target, source] = True
        return matrix

    def in_degree(self) -> list[int]:
        """Incoming links per unit."""
        return self.adjacency().sum(dim=1).tolist()

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"n_units": self.n_units, "edges": [list(edge) for edge in self.edges]}
