"""Drawing a model's circuit: units, their neurons and ports, and the wiring between units."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cnforecast.layers.wiring import CircuitGraph

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


def plot_circuit(graph: CircuitGraph, n_neurons: int, n_ports: int, ax: Axes | None = None) -> Axes:
    """Draw units on a circle, each with its neurons, and the links between units.

    Input-port neurons are drawn in blue, output ports in orange, inner neurons in grey;
    neighbour links are solid, random long-range links dashed. Units are numbered in
    time order (unit 0 reads the earliest stretch of the window).

    Parameters
    ----------
    graph
        From :meth:`cnforecast.CircuitNetModel.circuit_graph`.
    n_neurons, n_ports
        Neurons and ports per unit, as given to the model.
    ax
        Axes to draw on; a new figure when None.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cnforecast import CircuitNetModel
    >>> model = CircuitNetModel(96, 96, n_units=6, n_links=1)
    >>> ax = plot_circuit(model.circuit_graph(), model.config.n_neurons, model.config.n_ports)
    >>> len(ax.patches) >= 6
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    m = graph.n_units
    radius = 1.0 if m > 1 else 0.0
    centres = [
        (
            radius * math.cos(math.pi / 2 - 2 * math.pi * u / m),
            radius * math.sin(math.pi / 2 - 2 * math.pi * u / m),
        )
        for u in range(m)
    ]
    unit_radius = min(0.35, 2.2 / max(m, 1)) if m > 1 else 0.5
    for source, target, kind in graph.edges:
        arrow = FancyArrowPatch(
            centres[source],
            centres[target],
            arrowstyle="-|>",
            mutation_scale=12,
            shrinkA=unit_radius * 60,
            shrinkB=unit_radius * 60,
            connectionstyle="arc3,rad=0.15",
            linestyle="-" if kind == "neighbour" else "--",
            color="0.3" if kind == "neighbour" else "tab:red",
            linewidth=1.2,
        )
        ax.add_patch(arrow)
    for u, (x, y) in enumerate(centres):
        ax.add_patch(Circle((x, y), unit_radius, facecolor="0.95", edgecolor="0.2"))
        for i in range(n_neurons):
            angle = 2 * math.pi * i / n_neurons
            nx = x + 0.6 * unit_radius * math.cos(angle)
            ny = y + 0.6 * unit_radius * math.sin(angle)
            if i < n_ports:
                color = "tab:blue"
            elif i >= n_neurons - n_ports:
                color = "tab:orange"
            else:
                color = "0.6"
            ax.add_patch(Circle((nx, ny), unit_radius * 0.15, color=color))
        ax.text(x, y, str(u), ha="center", va="center", fontsize=10, weight="bold")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"{m} units x {n_neurons} neurons; blue: input ports, orange: output ports;\n"
        "solid: neighbours in time, dashed red: random long-range links",
        fontsize=9,
    )
    return ax
