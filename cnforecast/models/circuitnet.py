"""CircuitNetModel: the Circuit Motif Unit forecaster on the darts torch-model API."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

import numpy as np
import torch
from darts import TimeSeries
from darts.models.forecasting.pl_forecasting_module import PLForecastingModule, io_processor
from darts.models.forecasting.torch_forecasting_model import MixedCovariatesTorchModel
from darts.utils.data.torch_datasets.utils import (
    PLModuleInput,
    PLModuleOutput,
    TorchTrainingSample,
)
from torch import nn

from cnforecast.layers.circuit import Circuit
from cnforecast.layers.motif_unit import MOTIFS, normalize_motifs
from cnforecast.layers.patch_embedding import PatchEmbedding
from cnforecast.layers.port_assignment import PortAssignment
from cnforecast.layers.readout import Readout
from cnforecast.layers.wiring import CircuitGraph, build_wiring
from cnforecast.models.windows import WindowsMixin

logger = logging.getLogger(__name__)

ReadoutKind = Literal["all", "ports"]
READOUTS: tuple[str, ...] = get_args(ReadoutKind)


class _CircuitNetModule(PLForecastingModule):
    """Lightning module holding the CircuitNet layers; sizes come from a training sample."""

    def __init__(
        self,
        past_cov_dim: int,
        future_cov_dim: int,
        static_cov_dim: int,
        nr_params: int,
        d_model: int,
        n_units: int,
        n_neurons: int,
        n_ports: int,
        n_rounds: int,
        n_heads: int,
        n_links: int,
        patch_len: int,
        stride: int,
        motifs: tuple[str, ...],
        readout: str,
        ff_mult: int,
        dropout: float,
        wiring_seed: int,
        linear_skip: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.nr_params = nr_params
        self.readout_kind = readout
        self.n_ports = n_ports
        lookback = self.input_chunk_length
        self.patch_embedding = PatchEmbedding(lookback, patch_len, stride, 1, d_model)
        n_patches = self.patch_embedding.n_patches
        # past and historic future covariates: embedded per patch, added to every component
        self.covariate_embedding = (
            PatchEmbedding(lookback, patch_len, stride, past_cov_dim, d_model, positional=False)
            if past_cov_dim
            else None
        )
        self.port_assignment = PortAssignment(n_patches, n_units, n_ports)
        self.circuit = Circuit(
            n_units=n_units,
            n_neurons=n_neurons,
            n_ports=n_ports,
            d_model=d_model,
            n_rounds=n_rounds,
            n_links=n_links,
            wiring_seed=wiring_seed,
            n_heads=n_heads,
            motifs=motifs,
            dropout=dropout,
            ff_mult=ff_mult,
        )
        read_neurons = n_neurons if readout == "all" else n_ports
        self.readout = Readout(
            in_features=n_units * read_neurons * d_model,
            horizon=self.output_chunk_length,
            nr_params=nr_params,
            future_cov_dim=future_cov_dim,
            static_cov_dim=static_cov_dim,
            hidden=d_model,
            dropout=dropout,
        )
        # optional global linear residual from the window to the horizon (as in TiDE)
        self.skip = (
            nn.Linear(lookback, self.output_chunk_length * nr_params) if linear_skip else None
        )

    @io_processor
    def forward(self, x_in: PLModuleInput) -> PLModuleOutput:
        # B: batch, L: input_chunk_length, H: output_chunk_length, C: target components,
        # X: past + historic future covariate components, F: future covariate components,
        # S: static covariates per component, G = B * C sequences (channel independence),
        # Np: patches, M: units, N: neurons per unit, P: ports per unit, D: state size,
        # R: likelihood parameters (nr_params).
        target = x_in.past_target  # (B, L, C)
        b, _, c = target.shape
        # (B, L, C) -> (B, C, L) -> (G, L, 1)
        sequences = target.transpose(1, 2).reshape(b * c, -1, 1)
        # (G, L, 1) -> (G, Np, D)
        patches = self.patch_embedding(sequences)
        if self.covariate_embedding is not None:
            covariates = torch.cat(
                [
                    t
                    for t in (x_in.past_covariates, x_in.historic_future_covariates)
                    if t is not None
                ],
                dim=2,
            )  # (B, L, X)
            # (B, L, X) -> (B, Np, D) -> (B, 1, Np, D), added to (B, C, Np, D) -> (G, Np, D)
            cov = self.covariate_embedding(covariates).unsqueeze(1)
            patches = (patches.view(b, c, *patches.shape[1:]) + cov).flatten(0, 1)
        # (G, Np, D) -> (G, M, P, D)
        ports = self.port_assignment(patches)
        # (G, M, P, D) -> (G, M, N, D)
        states = self.circuit(ports)
        if self.readout_kind == "ports":
            # output ports only: (G, M, N, D) -> (G, M, P, D)
            states = states[:, :, -self.n_ports :]
        # (G, M, N or P, D) -> (G, M * (N or P) * D)
        flat = states.flatten(1)
        future = x_in.future_covariates
        if future is not None:
            # (B, H, F) -> (G, H, F): the same future covariates for every component
            future = future.repeat_interleave(c, dim=0)
        static = x_in.static_covariates
        if static is not None:
            # (B, C or 1, S) -> (B, C, S) -> (G, S): a component's own static covariates
            static = static.expand(b, c, -1).reshape(b * c, -1)
        # (G, F) -> (G, H, R)
        out = self.readout(flat, future, static)
        if self.skip is not None:
            # (G, L, 1) -> (G, L) -> (G, H * R) -> (G, H, R)
            out = out + self.skip(sequences.squeeze(-1)).view_as(out)
        # (G, H, R) -> (B, C, H, R) -> (B, H, C, R)
        prediction = out.view(b, c, self.output_chunk_length, self.nr_params).transpose(1, 2)
        return PLModuleOutput(prediction=prediction)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _check_finite(series: TimeSeries | Sequence[TimeSeries] | None, role: str) -> None:
    """Raise a clear error when a series (or one of a list) holds NaN or infinite values."""
    if series is None:
        return
    items = [series] if isinstance(series, TimeSeries) else list(series)
    for index, item in enumerate(items):
        if not isinstance(item, TimeSeries):
            continue
        values = item.values(copy=False)
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            where = f"{role}[{index}]" if len(items) > 1 else role
            raise ValueError(
                f"{where} holds {int(bad.sum())} NaN or infinite value(s), the first at "
                f"{item.time_index[row]} in component {item.components[col]!r}. CircuitNet "
                "cannot train or forecast from missing values: fill them first, for example "
                "with darts.utils.missing_values.fill_missing_values(series)."
            )


_FIT_SIGNATURE = inspect.signature(MixedCovariatesTorchModel.fit)
_PREDICT_SIGNATURE = inspect.signature(MixedCovariatesTorchModel.predict)


class CircuitNetModel(WindowsMixin, MixedCovariatesTorchModel):
    def __init__(
        self,
        input_chunk_length: int,
        output_chunk_length: int,
        output_chunk_shift: int = 0,
        d_model: int = 64,
        n_units: int = 4,
        n_neurons: int = 6,
        n_ports: int = 3,
        n_rounds: int = 2,
        n_heads: int = 4,
        n_links: int = 1,
        patch_len: int = 16,
        stride: int = 8,
        motifs: str | Iterable[str] = MOTIFS,
        readout: ReadoutKind = "all",
        ff_mult: int = 2,
        dropout: float = 0.1,
        wiring_seed: int = 0,
        linear_skip: bool = False,
        use_static_covariates: bool = True,
        use_reversible_instance_norm: bool | dict = True,
        **kwargs,
    ) -> None:
        """CircuitNet: a forecaster built from Circuit Motif Units (CMUs).

        Each target component is forecast from its own lookback window with weights shared
        across components (channel independence). The window is cut into patches that are
        embedded and assigned, in time order, to the input ports of ``n_units`` units of
        ``n_neurons`` neurons. Inside a unit, signals pass between all neurons through a
        linear transformation, neuron-wise attention and neuron-pair products (the
        ``motifs``); units exchange messages from their output ports to the input ports of
        the units they are wired to (neighbours in time plus ``n_links`` random long-range
        links). After ``n_rounds`` rounds the neuron states are read out linearly to the
        horizon. See ``docs/architecture.md``.

        Covariates: past covariates (and the historic part of future covariates) are
        embedded per patch and added to every component's patch embeddings; future
        covariates over the horizon and static covariates are mixed into the read-out, per
        forecast step. Static covariates may be global (one row) or per component.

        Parameters
        ----------
        input_chunk_length
            Lookback window length ``L``.
        output_chunk_length
            Steps forecast at once ``H``; longer horizons are forecast autoregressively.
        output_chunk_shift
            Steps between the end of the input and the start of the output chunk.
        d_model
            Neuron state size ``D``.
        n_units
            Number of circuit motif units ``M``.
        n_neurons
            Neurons per unit ``N``.
        n_ports
            Input ports and output ports per unit ``P`` (``P <= N``; input ports are the
            first ``P`` neurons, output ports the last ``P``).
        n_rounds
            Rounds of transmission ``T``, each with its own weights.
        n_heads
            Attention heads of the attention motif (must divide ``d_model``).
        n_links
            Random long-range incoming links per unit ``k``.
        patch_len, stride
            Patch length and step between patches.
        motifs
            Transmission terms: a non-empty subset of ``("linear", "attention",
            "product")``, as a tuple or a ``"+"``-joined string.
        readout
            ``"all"`` reads every neuron, ``"ports"`` only the output ports.
        ff_mult
            Hidden size of the per-neuron feed-forward block, as a multiple of ``d_model``.
        dropout
            Dropout rate (also enables Monte Carlo dropout at prediction).
        wiring_seed
            Seed of the random long-range links; the drawn wiring is saved with the model.
        linear_skip
            Add a linear map from each component's (normalised) window straight to the
            horizon, a global residual path next to the circuit (as TiDE has).
        use_static_covariates
            Whether to use static covariates of the target series when present.
        use_reversible_instance_norm
            Reversible instance normalisation of the target window (on by default).
        **kwargs
            The keywords shared by every darts torch model, passed through unchanged:
            ``batch_size``, ``n_epochs``, ``optimizer_kwargs``, ``likelihood``,
            ``loss_fn``, ``random_state``, ``pl_trainer_kwargs``, ``add_encoders``, ... See
            :class:`darts.models.forecasting.torch_forecasting_model.TorchForecastingModel`.

        References
        ----------
        .. [1] Y. Wang, X. Liu, Z. Xu, et al., "CircuitNet: A Generic Neural Network to
               Realize Universal Circuit Motif Modeling", ICML 2023.
        .. [2] T. Kim et al., "Reversible Instance Normalization for Accurate Time-Series
               Forecasting against Distribution Shift", ICLR 2022.

        Examples
        --------
        >>> import numpy as np
        >>> from darts import TimeSeries
        >>> from cnforecast import CircuitNetModel
        >>> t = np.arange(200, dtype=np.float32)
        >>> series = TimeSeries.from_values(np.sin(2 * np.pi * t / 24))
        >>> model = CircuitNetModel(48, 12, d_model=16, n_epochs=1, random_state=0,
        ...                         pl_trainer_kwargs={"enable_progress_bar": False,
        ...                                            "logger": False})
        >>> model = model.fit(series)
        >>> model.predict(12).n_timesteps
        12
        >>> model.circuit_graph().in_degree()
        [2, 3, 3, 2]
        """
        _check_positive(
            d_model=d_model,
            n_units=n_units,
            n_neurons=n_neurons,
            n_ports=n_ports,
            n_rounds=n_rounds,
            n_heads=n_heads,
            patch_len=patch_len,
            stride=stride,
            ff_mult=ff_mult,
        )
        if isinstance(n_links, bool) or not isinstance(n_links, int | np.integer) or n_links < 0:
            raise ValueError(f"n_links must be an integer >= 0, got {n_links!r}.")
        if n_ports > n_neurons:
            raise ValueError(
                f"n_ports={n_ports} exceeds n_neurons={n_neurons}: ports are neurons of a "
                "unit, so choose n_ports <= n_neurons."
            )
        motifs = normalize_motifs(motifs)
        if "attention" in motifs and d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads} when the "
                "attention motif is used."
            )
        if readout not in READOUTS:
            raise ValueError(f"readout={readout!r} is not one of {READOUTS}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")

        model_kwargs = dict(self.model_params)
        super().__init__(**self._extract_torch_model_params(**model_kwargs))
        self.pl_module_params = self._extract_pl_module_params(**model_kwargs)

        self.d_model = d_model
        self.n_units = n_units
        self.n_neurons = n_neurons
        self.n_ports = n_ports
        self.n_rounds = n_rounds
        self.n_heads = n_heads
        self.n_links = int(n_links)
        self.patch_len = patch_len
        self.stride = stride
        self.motifs = motifs
        self.readout = readout
        self.ff_mult = ff_mult
        self.dropout = dropout
        self.wiring_seed = wiring_seed
        self.linear_skip = bool(linear_skip)
        self._considers_static_covariates = use_static_covariates

    def _create_model(self, train_sample: TorchTrainingSample) -> PLForecastingModule:
        past_cov_dim = sum(
            t.shape[1]
            for t in (train_sample.past_covariates, train_sample.historic_future_covariates)
            if t is not None
        )
        future = train_sample.future_covariates
        static = train_sample.static_covariates  # (C or 1, S)
        nr_params = 1 if self.likelihood is None else self.likelihood.num_parameters
        return _CircuitNetModule(
            past_cov_dim=past_cov_dim,
            future_cov_dim=future.shape[1] if future is not None else 0,
            static_cov_dim=static.shape[1] if static is not None else 0,
            nr_params=nr_params,
            d_model=self.d_model,
            n_units=self.n_units,
            n_neurons=self.n_neurons,
            n_ports=self.n_ports,
            n_rounds=self.n_rounds,
            n_heads=self.n_heads,
            n_links=self.n_links,
            patch_len=self.patch_len,
            stride=self.stride,
            motifs=self.motifs,
            readout=self.readout,
            ff_mult=self.ff_mult,
            dropout=self.dropout,
            wiring_seed=self.wiring_seed,
            linear_skip=self.linear_skip,
            **self.pl_module_params,
        )

    @property
    def supports_multivariate(self) -> bool:
        return True

    @property
    def supports_static_covariates(self) -> bool:
        return True

    @property
    def supports_likelihood_parameter_prediction(self) -> bool:
        return True

    def circuit_graph(self) -> CircuitGraph:
        """The wiring between units.

        Read from the trained network's saved state when the model is fitted (the wiring
        travels with :meth:`save` and :meth:`load`), otherwise drawn from ``n_units``,
        ``n_links`` and ``wiring_seed`` exactly as training will draw it.
        """
        if self.model is not None:
            return self.model.circuit.graph()
        return CircuitGraph.from_adjacency(
            build_wiring(self.n_units, self.n_links, self.wiring_seed)
        )

    def fit(self, series, *args, **kwargs):
        bound = _FIT_SIGNATURE.bind(self, series, *args, **kwargs).arguments
        for role in ("series", "past_covariates", "future_covariates", "val_series"):
            _check_finite(bound.get(role), role)
        self._check_series_length(series)
        return super().fit(series, *args, **kwargs)

    fit.__doc__ = MixedCovariatesTorchModel.fit.__doc__

    def predict(self, n: int, series=None, *args, **kwargs):
        bound = _PREDICT_SIGNATURE.bind(self, n, series, *args, **kwargs).arguments
        for role in ("series", "past_covariates", "future_covariates"):
            _check_finite(bound.get(role), role)
        return super().predict(n, series, *args, **kwargs)

    predict.__doc__ = MixedCovariatesTorchModel.predict.__doc__

    def _check_series_length(self, series: TimeSeries | Sequence[TimeSeries]) -> None:
        items = [series] if isinstance(series, TimeSeries) else list(series)
        needed = self.input_chunk_length + self.output_chunk_length + self.output_chunk_shift
        short = [(i, len(s)) for i, s in enumerate(items) if len(s) < needed]
        if short and len(short) == len(items):
            index, length = short[0]
            raise ValueError(
                f"series{'' if len(items) == 1 else f'[{index}]'} has {length} time steps, but "
                f"CircuitNetModel needs at least input_chunk_length + output_chunk_length"
                f"{' + output_chunk_shift' if self.output_chunk_shift else ''} = {needed} "
                "to build one training window: give a longer series or smaller chunk lengths."
            )
        if short:
            logger.warning(
                "%d of %d series are shorter than %d steps and give no training window.",
                len(short),
                len(items),
                needed,
            )
