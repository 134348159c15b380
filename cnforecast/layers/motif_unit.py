"""One round of signal transmission inside all Circuit Motif Units at once."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from cnforecast.layers.attention_motif import AttentionMotif
from cnforecast.layers.linear_motif import LinearMotif
from cnforecast.layers.product_motif import ProductMotif

#: The transmission terms a unit can use; any non-empty subset is a valid ``motifs``.
MOTIFS: tuple[str, ...] = ("linear", "attention", "product")


def normalize_motifs(motifs: str | Iterable[str]) -> tuple[str, ...]:
    """Validate ``motifs`` and return it as a tuple in the canonical order of :data:`MOTIFS`.

    A string may name one term or several joined by ``+`` or ``,`` (``"linear+product"``).

    Examples
    --------
    >>> normalize_motifs("product+linear")
    ('linear', 'product')
    """
    if isinstance(motifs, str):
        names = [part.strip() for part in motifs.replace(",", "+").split("+") if part.strip()]
    else:
        names = list(motifs)
    unknown = [name for name in names if name not in MOTIFS]
    if unknown:
        raise ValueError(
            f"unknown motif(s) {unknown}; motifs must be a non-empty subset of {MOTIFS}."
        )
    if not names:
        raise ValueError(
            f"motifs is empty; give a non-empty subset of {MOTIFS}, for example "
            "motifs=('linear', 'attention', 'product')."
        )
    return tuple(name for name in MOTIFS if name in names)


class CircuitMotifUnits(nn.Module):
    """The inside step of every unit: the chosen motif terms, then a feed-forward block.

    ``h <- Norm(h + Dropout(l + a + p))`` followed by ``h <- Norm(h + Dropout(FF(h)))``,
    with ``l``, ``a``, ``p`` the linear, attention and product terms (those in ``motifs``).

    Parameters
    ----------
    n_units, n_neurons, d_model
        ``M``, ``N`` and ``D``.
    n_heads
        Attention heads (used by the attention term).
    motifs
        Which transmission terms to use, a non-empty subset of :data:`MOTIFS`.
    dropout
        Dropout on the summed signal, inside attention and in the feed-forward block.
    ff_mult
        Hidden size of the feed-forward block, as a multiple of ``D``.
    """

    def __init__(
        self,
        n_units: int,
        n_neurons: int,
        d_model: int,
        n_heads: int,
        motifs: Iterable[str] = MOTIFS,
        dropout: float = 0.1,
        ff_mult: int = 2,
    ) -> None:
        super().__init__()
        builders = {
            "linear": lambda: LinearMotif(n_units, n_neurons, d_model),
            "attention": lambda: AttentionMotif(d_model, n_heads, dropout),
            "product": lambda: ProductMotif(n_units, n_neurons, d_model),
        }
        self.terms = nn.ModuleDict({name: builders[name]() for name in normalize_motifs(motifs)})
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ff_mult * d_model, d_model),
        )
        self.ff_norm = nn.LayerNorm(d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(G, M, N, D)`` neuron states -> ``(G, M, N, D)`` updated states."""
        signal = sum(term(h) for term in self.terms.values())
        h = self.norm(h + self.dropout(signal))
        return self.ff_norm(h + self.dropout(self.feed_forward(h)))
