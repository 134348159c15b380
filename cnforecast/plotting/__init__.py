"""Figures drawn from models (the benchmark's figures live in :mod:`cnforecast.bench.plots`)."""

from cnforecast.plotting.circuit import plot_circuit

__all__ = ["plot_circuit"]
