"""One round of signal transmission inside all Circuit Motif Units at once."""

from __future__ import annotations

import torch
from torch import nn

from cnforecast.layers.attention_motif import AttentionMotif
from cnforecast.layers.config import MOTIFS, CircuitConfig, normalize_motifs
from cnforecast.layers.linear_motif import LinearMotif
from cnforecast.layers.product_motif import ProductMotif

__all__ = ["MOTIFS", "CircuitMotifUnits", "normalize_motifs"]


class CircuitMotifUnits(nn.Module):
    """The inside step of every unit: the chosen motif terms, then a feed-forward block.

    ``h <- Norm(h + Dropout(l + a + p))`` followed by ``h <- Norm(h + Dropout(FF(h)))``,
    with ``l``, ``a``, ``p`` the linear, attention and product terms (those in
    ``config.motifs``). The ``D x D`` maps of all terms (``W_l``; ``W_q``, ``W_k``,
    ``W_v``; ``W_p``) are one fused projection: a single matrix product per round.

    Parameters
    ----------
    config
        The circuit's configuration (``M``, ``N``, ``D``, heads, motifs, dropout,
        feed-forward size).
    """

    def __init__(self, config: CircuitConfig) -> None:
        super().__init__()
        m, n, d = config.n_units, config.n_neurons, config.d_model
        builders = {
            "linear": lambda: LinearMotif(m, n),
            "attention": lambda: AttentionMotif(d, config.n_heads, config.dropout),
            "product": lambda: ProductMotif(m, n),
        }
        self.terms = nn.ModuleDict({name: builders[name]() for name in config.motifs})
        # which maps of the fused projection belong to which term: name -> (first, count)
        self.maps: dict[str, tuple[int, int]] = {}
        for name, term in self.terms.items():
            self.maps[name] = (sum(count for _, count in self.maps.values()), term.n_maps)
        n_maps = sum(count for _, count in self.maps.values())
        self.projection = nn.Linear(d, n_maps * d, bias=False)
        with torch.no_grad():
            for name, (first, count) in self.maps.items():
                std = getattr(self.terms[name], "init_std", None)
                if std is not None:
                    self.projection.weight[first * d : (first + count) * d].normal_(std=std)
        self.dropout = nn.Dropout(config.dropout)
        self.norm = nn.LayerNorm(d)
        self.feed_forward = nn.Sequential(
            nn.Linear(d, config.ff_mult * d),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ff_mult * d, d),
        )
        self.ff_norm = nn.LayerNorm(d)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` neuron states -> ``(G, M, N, D)`` updated states."""
        # (G, M, N, D) -> (G, M, N, maps * D) -> maps x (G, M, N, D)
        maps = self.projection(h).split(h.shape[-1], dim=-1)
        signal = None
        for name, term in self.terms.items():
            first, count = self.maps[name]
            part = term(h, *maps[first : first + count])
            signal = part if signal is None else signal + part
        h = self.norm(h + self.dropout(signal))
        return self.ff_norm(h + self.dropout(self.feed_forward(h)))
