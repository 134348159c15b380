"""Torch building blocks of CircuitNet, one concern a file.

Symbols used in shape comments throughout this package:

- ``G``: independent sequences in a batch (batch size B times target components C,
  because the target components are processed channel-independently),
- ``L``: lookback (input_chunk_length), ``H``: horizon (output_chunk_length),
- ``Np``: number of patches of the lookback window,
- ``M``: circuit motif units, ``N``: neurons per unit, ``P``: ports per unit,
- ``D``: neuron state size, ``K``: neurons per unit that the read-out reads (N or P),
- ``r``: features per unit in the factorised read-out.
"""

from cnforecast.layers.attention_motif import AttentionMotif
from cnforecast.layers.circuit import Circuit
from cnforecast.layers.config import MOTIFS, READOUTS, CircuitConfig, normalize_motifs
from cnforecast.layers.linear_motif import LinearMotif
from cnforecast.layers.linear_path import LinearPath
from cnforecast.layers.motif_unit import CircuitMotifUnits
from cnforecast.layers.patch_embedding import PatchEmbedding, patch_count
from cnforecast.layers.port_assignment import PortAssignment
from cnforecast.layers.port_exchange import PortExchange
from cnforecast.layers.product_motif import ProductMotif
from cnforecast.layers.readout import Readout
from cnforecast.layers.wiring import CircuitGraph, build_wiring

__all__ = [
    "MOTIFS",
    "READOUTS",
    "AttentionMotif",
    "Circuit",
    "CircuitConfig",
    "CircuitGraph",
    "CircuitMotifUnits",
    "LinearMotif",
    "LinearPath",
    "PatchEmbedding",
    "PortAssignment",
    "PortExchange",
    "ProductMotif",
    "Readout",
    "build_wiring",
    "normalize_motifs",
    "patch_count",
]
