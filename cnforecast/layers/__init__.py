"""Torch building blocks of CircuitNet, one concern a file.

Symbols used in shape comments throughout this package:

- ``G``: independent sequences in a batch (batch size B times target components C,
  because the target components are processed channel-independently),
- ``L``: lookback (input_chunk_length), ``H``: horizon (output_chunk_length),
- ``Np``: number of patches of the lookback window,
- ``M``: circuit motif units, ``N``: neurons per unit, ``P``: ports per unit,
- ``D``: neuron state size.
"""

from cnforecast.layers.attention_motif import AttentionMotif
from cnforecast.layers.circuit import Circuit
from cnforecast.layers.linear_motif import LinearMotif
from cnforecast.layers.motif_unit import MOTIFS, CircuitMotifUnits
from cnforecast.layers.patch_embedding import PatchEmbedding, patch_count
from cnforecast.layers.port_assignment import PortAssignment
from cnforecast.layers.port_exchange import PortExchange
from cnforecast.layers.product_motif import ProductMotif
from cnforecast.layers.readout import Readout
from cnforecast.layers.wiring import CircuitGraph, build_wiring

__all__ = [
    "MOTIFS",
    "AttentionMotif",
    "Circuit",
    "CircuitGraph",
    "CircuitMotifUnits",
    "LinearMotif",
    "PatchEmbedding",
    "PortAssignment",
    "PortExchange",
    "ProductMotif",
    "Readout",
    "build_wiring",
    "patch_count",
]
