"""CircuitNetModel: the Circuit Motif Unit forecaster on the darts torch-model API."""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal

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

from cnforecast.cycle_phase import CyclePhase, auto_cycle_length
from cnforecast.layers.config import LINEAR_INITS, CircuitConfig, ReadoutKind
from cnforecast.layers.network import LAYER_NAMES, CircuitLayers, CircuitNetwork, NetworkShape
from cnforecast.layers.wiring import CircuitGraph, build_wiring
from cnforecast.models.cycle_start import cycle_means, first_phase
from cnforecast.models.linear_start import least_squares, linear_sums
from cnforecast.models.recipe import DEFAULT_TRAINING
from cnforecast.models.windows import WindowsMixin

logger = logging.getLogger(__name__)

_DEFAULTS = CircuitConfig()


class _CircuitNetModule(CircuitLayers, PLForecastingModule):
    """Lightning module holding the CircuitNet layers; sizes come from a training sample.

    The layers and their forward pass are :class:`~cnforecast.layers.network.CircuitLayers`'
    (shared with the darts-free :class:`~cnforecast.layers.network.CircuitNetwork`); darts
    adds the reversible instance normalisation around :meth:`forward` (``io_processor``).
    """

    def __init__(
        self,
        config: CircuitConfig,
        past_cov_dim: int,
        future_cov_dim: int,
        static_cov_dim: int,
        nr_params: int,
        torch_compile: bool | str = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.nr_params = nr_params
        shape = NetworkShape(
            input_chunk_length=self.input_chunk_length,
            output_chunk_length=self.output_chunk_length,
            # with cycle_length, the last past covariate is the phase, not an input
            past_cov_dim=past_cov_dim - (1 if config.cycle_length else 0),
            future_cov_dim=future_cov_dim,
            static_cov_dim=static_cov_dim,
            nr_params=nr_params,
            output_chunk_shift=self.output_chunk_shift,
        )
        self.build_layers(config, shape, torch_compile, self.n_targets)
        # set once the linear path has had its start (linear_init) or weights were loaded
        self._linear_path_started = False

    def __getstate__(self) -> dict:
        # compiled code is rebuilt after loading, never pickled
        return {**super().__getstate__(), "_compiled": []}

    def on_train_start(self) -> None:
        super().on_train_start()
        self._start_cycle()
        self._start_linear_path()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        # darts restores the saved loss only as `criterion` and leaves the training and
        # validation criteria at its own default (the squared error): a fit resumed from a
        # checkpoint, or continued after `load_best`, must go on with the loss it started on
        self.train_criterion = copy.deepcopy(self.criterion)
        self.val_criterion = copy.deepcopy(self.criterion)

    def load_state_dict(self, *args, **kwargs):
        # weights loaded from a checkpoint or a saved model are trained ones: keep them
        self._linear_path_started = True
        return super().load_state_dict(*args, **kwargs)

    def _start_cycle(self) -> None:
        """A cycle still at zero (a new model, not one resumed or trained before) starts at
        the mean normalised training window at each phase (``cycle_init="mean"``)."""
        if (
            self.periodic is None
            or self.config.cycle_init != "mean"
            or bool(self.periodic.cycle.detach().any())
        ):
            return
        sums, counts = cycle_means(
            self.trainer.train_dataloader,
            self.config.cycle_length,
            normalise=self.rin,
            device=self.device,
        )
        # several processes (DDP): every one sums its own share of the windows
        sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
        counts = self.trainer.strategy.reduce(counts, reduce_op="sum")
        self.periodic.set_values(sums / counts.clamp(min=1)[:, None])
        logger.info(
            "the learned cycle starts at the mean of %d training steps per phase (min %d)",
            int(counts.sum()) // max(self.config.cycle_length, 1),
            int(counts.min()),
        )

    def _start_linear_path(self) -> None:
        """A new model's linear path starts at the least-squares map of the training windows
        (``linear_init="lstsq"``; ``"lstsq_far"``: only at the steps past the circuit's),
        after the cycle's start; trained or loaded weights are kept."""
        init = self.config.linear_init
        if self.skip is None or init == "random" or self._linear_path_started:
            return
        lookback, horizon, nr_params = (
            self.input_chunk_length,
            self.output_chunk_length,
            self.nr_params,
        )
        # "lstsq_far": the steps the linear path forecasts alone, past the circuit's
        first = self.config.circuit_steps(lookback, horizon) if init == "lstsq_far" else 0
        self._linear_path_started = True
        if first >= horizon:
            return
        gram, cross, n = linear_sums(
            self.trainer.train_dataloader,
            lookback,
            horizon,
            normalise=self.rin,
            periodic=self.periodic,
            output_chunk_shift=self.output_chunk_shift,
            device=self.device,
        )
        # several processes (DDP): every one sums its own share of the windows
        gram = self.trainer.strategy.reduce(gram, reduce_op="sum")
        cross = self.trainer.strategy.reduce(cross, reduce_op="sum")
        weight, bias = least_squares(gram, cross)  # (H, L), (H,)
        # the path's outputs are (H, R) flattened: every parameter (quantile) starts alike
        weight = weight.repeat_interleave(nr_params, dim=0).to(self.skip.weight)
        bias = bias.repeat_interleave(nr_params, dim=0).to(self.skip.bias)
        # the first steps keep their start
        rows = first * nr_params
        weight[:rows] = self.skip.weight.detach()[:rows] * self.skip.gain
        bias[:rows] = self.skip.bias.detach()[:rows] * self.skip.gain
        self.skip.set_map(weight, bias)
        logger.info(
            "the linear path starts at the least-squares map of %d training sequences "
            "(steps %d to %d)",
            n,
            first + 1,
            horizon,
        )

    @io_processor
    def forward(self, x_in: PLModuleInput) -> PLModuleOutput:
        # B: batch, L: input_chunk_length, H: output_chunk_length, C: target components,
        # X: past + historic future covariate components, F: future covariate components,
        # S: static covariates per component, R: likelihood parameters (nr_params).
        past, phase = x_in.past_covariates, None
        if self.config.cycle_length:
            # the CyclePhase encoder's component, last of the past covariates -> (B,)
            phase = first_phase(past)
            past = past[..., :-1] if past.shape[2] > 1 else None
        covariates = [t for t in (past, x_in.historic_future_covariates) if t is not None]
        prediction = self.run_layers(
            x_in.past_target,  # (B, L, C)
            torch.cat(covariates, dim=2) if covariates else None,  # (B, L, X)
            x_in.future_covariates,  # (B, H, F)
            x_in.static_covariates,  # (B, C or 1, S)
            phase,  # (B,) or None
        )  # (B, H, C, R)
        return PLModuleOutput(prediction=prediction)


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


def _check_location_likelihood(likelihood, option: str) -> None:
    """Refuse a likelihood whose parameters are not all locations (``option`` sets or adds
    the same values to every parameter): point forecasts and quantile regression only."""
    from darts.utils.likelihood_models import QuantileRegression

    if likelihood is not None and not isinstance(likelihood, QuantileRegression):
        raise ValueError(
            f"{option} works with point forecasts and QuantileRegression, not with the "
            f"parameters of {type(likelihood).__name__}. Drop {option} or the likelihood."
        )


def _resolve_linear_init(linear_init: str, linear_skip: bool, likelihood) -> str:
    """``linear_init="auto"``: the far start (``"lstsq_far"``) where a start applies, else
    ``"random"``; any other of the model's values is kept."""
    if linear_init not in ("auto", *LINEAR_INITS):
        raise ValueError(
            f"linear_init={linear_init!r} is not one of {('auto', *LINEAR_INITS)}: leave it "
            "out for the default ('auto')."
        )
    if linear_init != "auto":
        return linear_init
    try:
        _check_location_likelihood(likelihood, "linear_init")
    except ValueError as exc:
        logger.info("linear_init='auto': no least-squares start (%s)", exc)
        return "random"
    return "lstsq_far" if linear_skip else "random"


def _cycle_settings(cycle_length: int, model_kwargs: dict) -> dict:
    """The darts keywords that feed each window's phase to the network (``cycle_length``):
    a :class:`CyclePhase` custom past-covariate encoder, last of the past covariates."""
    _check_location_likelihood(model_kwargs.get("likelihood"), "cycle_length")
    encoders = copy.deepcopy(model_kwargs.get("add_encoders") or {})
    if encoders.get("transformer") is not None:
        raise ValueError(
            "cycle_length cannot be combined with an add_encoders 'transformer': it would "
            "rescale the phase the network reads. Scale your encodings otherwise, or drop "
            "cycle_length."
        )
    custom = encoders.setdefault("custom", {})
    past = custom.get("past", [])
    custom["past"] = [*([past] if callable(past) else past), CyclePhase(cycle_length)]
    return {"add_encoders": encoders}


def _compile_backend(torch_compile: bool | str) -> bool | str:
    """Validate ``torch_compile``: a bool, or the name of a ``torch.compile`` backend."""
    if isinstance(torch_compile, bool):
        return torch_compile
    if isinstance(torch_compile, str):
        import torch._dynamo

        backends = torch._dynamo.list_backends(exclude_tags=())
        if torch_compile in backends:
            return torch_compile
        raise ValueError(
            f"torch_compile={torch_compile!r} is not a torch.compile backend; use True "
            f"(inductor), False, or one of {backends}."
        )
    raise ValueError(f"torch_compile must be True, False or a backend name, got {torch_compile!r}.")


#: Above this training standard deviation (of the widest component, in the series' own
#: units), most errors exceed the default Huber loss's threshold of 1.0 and it trains
#: almost on the absolute error: :func:`_warn_loss_scale` says so, once per process.
LOSS_SCALE_WARNING = 3.0
_loss_scale_warned = False


def _warn_loss_scale(series: TimeSeries | Sequence[TimeSeries]) -> None:
    """Warn (once) when the recipe's Huber loss meets unscaled data it was not chosen on."""
    global _loss_scale_warned
    if _loss_scale_warned:
        return
    items = [series] if isinstance(series, TimeSeries) else list(series)
    largest = max(float(np.std(s.values(copy=False), axis=0).max()) for s in items)
    if largest > LOSS_SCALE_WARNING:
        _loss_scale_warned = True
        logger.warning(
            "the default loss, torch.nn.HuberLoss() (threshold 1.0), is the squared error "
            "for errors below 1.0 in the series' own units and the absolute error above; a "
            "training series here has a component of standard deviation %.3g, so training "
            "is close to the absolute error. The recipe was chosen on standardised data: "
            "scale the series (darts' Scaler; `cnforecast fit` does by default), or pass "
            "loss_fn=torch.nn.HuberLoss(delta=...) or loss_fn=torch.nn.MSELoss().",
            largest,
        )


_FIT_SIGNATURE = inspect.signature(MixedCovariatesTorchModel.fit)
_PREDICT_SIGNATURE = inspect.signature(MixedCovariatesTorchModel.predict)


class CircuitNetModel(WindowsMixin, MixedCovariatesTorchModel):
    #: Version of the layer layout. A model saved with another layout cannot be loaded.
    LAYOUT = 2

    def __init__(
        self,
        input_chunk_length: int,
        output_chunk_length: int,
        output_chunk_shift: int = 0,
        d_model: int = _DEFAULTS.d_model,
        n_units: int = _DEFAULTS.n_units,
        n_neurons: int = _DEFAULTS.n_neurons,
        n_ports: int = _DEFAULTS.n_ports,
        n_rounds: int = _DEFAULTS.n_rounds,
        n_heads: int = _DEFAULTS.n_heads,
        n_links: int = _DEFAULTS.n_links,
        patch_len: int = _DEFAULTS.patch_len,
        stride: int = _DEFAULTS.stride,
        motifs: str | Iterable[str] = _DEFAULTS.motifs,
        readout: ReadoutKind = _DEFAULTS.readout,
        readout_rank: int | None = _DEFAULTS.readout_rank,
        readout_steps: int | None = _DEFAULTS.readout_steps,
        ff_mult: int = _DEFAULTS.ff_mult,
        dropout: float = _DEFAULTS.dropout,
        wiring_seed: int = _DEFAULTS.wiring_seed,
        linear_skip: bool = _DEFAULTS.linear_skip,
        cycle_length: int | Literal["auto"] | None = "auto",
        linear_gain: float = _DEFAULTS.linear_gain,
        cycle_gain: float | None = None,
        cycle_init: Literal["mean", "zero"] = _DEFAULTS.cycle_init,
        readout_init: Literal["zero", "random"] = _DEFAULTS.readout_init,
        linear_init: Literal["auto", "random", "lstsq", "lstsq_far"] = "auto",
        variable_exchange: bool = _DEFAULTS.variable_exchange,
        torch_compile: bool | str = False,
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
        links). After ``n_rounds`` rounds the neuron states are read out to the horizon
        through a factorised map, and added to a linear map of the window (the linear path).
        See ``docs/architecture.md``.

        Covariates: past covariates (and the historic part of future covariates) are
        embedded per patch and added to every component's patch embeddings; future
        covariates over the horizon and static covariates are mixed into the read-out, per
        forecast step. Static covariates may be global (one row) or per component.

        Training: unless given, ``n_epochs=10``, ``optimizer_kwargs={"lr": 1e-3}``, an
        ``ExponentialLR`` schedule with ``gamma=0.5`` (the learning rate halves after every
        epoch) and ``loss_fn=torch.nn.HuberLoss()`` (the squared error for errors below
        1.0 in the series' own units, the absolute error above: scale the series, as the
        benchmarks do, or a warning says that training is close to the absolute error;
        ``torch.nn.MSELoss()`` gives the squared error of 0.5 and earlier): the recipe
        behind the benchmark numbers (:data:`DEFAULT_TRAINING`). A ``likelihood`` trains on
        its own loss instead.

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
        readout_rank
            Features per unit in the factorised read-out (``r``): each unit's read neurons
            are compressed to ``r`` features before the map to the horizon, so the read-out
            has ``N * D * r + M * r * H`` weights. ``None``: one full linear map
            (``M * N * D * H`` weights).
        readout_steps
            With the linear path on, the circuit's read-out forecasts the first
            ``readout_steps`` steps of the horizon (a correction to the linear path) and the
            linear path alone the later ones; ``None``: as many steps as the lookback
            (``min(H, L)``). Without the linear path the circuit forecasts every step.
        ff_mult
            Hidden size of the per-neuron feed-forward block, as a multiple of ``d_model``.
        dropout
            Dropout rate (also enables Monte Carlo dropout at prediction).
        wiring_seed
            Seed of the random long-range links; the drawn wiring is saved with the model.
        linear_skip
            Add a linear map from each component's (normalised) window straight to the
            horizon, next to the circuit (on by default; the circuit's read-out starts at
            zero and learns what the linear map misses).
        linear_gain
            The linear path learns this many times faster than the rest of the network
            (its weights are stored divided by the gain; Adam's steps do not depend on a
            weight's scale), as if it had its own learning rate. 1 (default): a plain
            linear layer at the model's rate. On the validation split 3 helped on hourly
            data (ETTh1, ETTh2, every horizon) and hurt on 15-minute data (ETTm1), so it is
            not the default; see ``docs/architecture.md``.
        cycle_length
            Learn a cycle of this many steps per target component (CycleNet's residual
            cycle forecasting): it is removed from the normalised window and added back to
            the forecast, at each window's phase, read from the series' time index (e.g.
            24 for the daily cycle of hourly data, 96 for 15-minute data). Needs time
            indexes with a fixed step (seconds to days) or integer indexes; adds a darts
            custom past-covariate encoder (:class:`~cnforecast.cycle_phase.CyclePhase`)
            and ``W * C`` weights. Works with point forecasts and quantile regression.
            ``"auto"`` (default): chosen at ``fit`` from the series' frequency
            (:func:`~cnforecast.cycle_phase.auto_cycle_length`: a day of steps for
            sub-daily data, a week for daily data), and no cycle where none applies (other
            frequencies, integer indexes, other likelihoods). ``None``: no cycle.
        cycle_gain
            The learned cycle learns this many times faster than the rest of the network
            (stored divided by the gain, as ``linear_gain``). ``None`` (default): 1 for a
            cycle that starts at the data's means, 10 for one that starts at zero (it has
            to travel: CycleNet learns its cycle at 0.01, ten times the model's rate).
        cycle_init
            Where the learned cycle starts: ``"mean"`` (default, since 0.4), the mean of
            the (normalised) training windows at each phase of the cycle, read from the
            training data before the first epoch (at most 1,000 batches); ``"zero"``, at
            zero, as CycleNet and CircuitNet 0.3. Only a new model's cycle is set: a resumed
            or retrained one keeps its own. Chosen on validation losses (ETTh1, ETTh2,
            ETTm1); see ``docs/architecture.md``.
        readout_init
            How the last map of the circuit's read-out starts: ``"zero"`` (default), so a
            fresh model forecasts with its linear path (and cycle) alone and the circuit
            learns what they miss; ``"random"``, ``nn.Linear``'s own uniform start, so the
            circuit contributes from the first step. The other weights start the same
            either way.
        linear_init
            How the linear path starts: ``"random"``, ``nn.Linear``'s uniform start;
            ``"lstsq"``, the least-squares map from the (normalised, cycle-free) training
            windows to their horizons, computed before the first epoch (at most 1,000
            batches; each window weighted as the squared error weighs it), so that training
            corrects a linear forecaster already in place. Only a new model's path is set: a
            retrained or loaded one keeps its own. Works with point forecasts and quantile
            regression. ``"lstsq_far"``: the same, only at the steps past the circuit's
            (``readout_steps``), which the linear path forecasts alone; at horizons the
            circuit covers it is ``"random"``. ``"auto"`` (default): ``"lstsq_far"``, or
            ``"random"`` where no start applies (a likelihood other than quantile
            regression, or ``linear_skip=False``). Chosen on validation losses (ETTh1,
            ETTh2, ETTm1, Weather); see ``docs/architecture.md``.
        variable_exchange
            Let the target components exchange messages before the circuit (off by
            default): each component's (normalised) window attends to the windows of all
            components of the same series, with a learned query per component and step of
            the cycle (TQNet's temporal query; one query per component without a cycle),
            and what it reads is added to its window. The map back starts at zero, so a new
            model forecasts as one without it. Costs ``O(C^2)`` per window in the number
            of components ``C``; the model then forecasts series of exactly ``C``
            components. See ``docs/architecture.md`` for its validation losses.
        torch_compile
            Run the circuit through :func:`torch.compile` (fewer, fused kernels: faster
            training on a GPU once compiled): ``True`` for the default ``"inductor"``
            backend, or the name of another backend. If compilation fails, a warning is
            logged and the model runs eagerly; the outputs are the same within
            floating-point tolerance.
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
        self.config = CircuitConfig(
            d_model=d_model,
            n_units=n_units,
            n_neurons=n_neurons,
            n_ports=n_ports,
            n_rounds=n_rounds,
            n_heads=n_heads,
            n_links=n_links,
            patch_len=patch_len,
            stride=stride,
            motifs=motifs,
            readout=readout,
            readout_rank=readout_rank,
            readout_steps=readout_steps,
            ff_mult=ff_mult,
            dropout=dropout,
            wiring_seed=wiring_seed,
            linear_skip=linear_skip,
            cycle_length=None if cycle_length == "auto" else cycle_length,
            linear_gain=linear_gain,
            cycle_gain=cycle_gain,
            cycle_init=cycle_init,
            readout_init=readout_init,
            linear_init=_resolve_linear_init(linear_init, linear_skip, kwargs.get("likelihood")),
            variable_exchange=variable_exchange,
        )
        # a deep copy: darts may keep and change the nested dicts of its keywords
        model_kwargs = {**copy.deepcopy(dict(DEFAULT_TRAINING)), **self.model_params}
        if self.config.cycle_length:
            model_kwargs.update(_cycle_settings(self.config.cycle_length, model_kwargs))
        if self.config.linear_init != "random":
            _check_location_likelihood(
                model_kwargs.get("likelihood"), f"linear_init={self.config.linear_init!r}"
            )
        super().__init__(**self._extract_torch_model_params(**model_kwargs))
        self.pl_module_params = self._extract_pl_module_params(**model_kwargs)
        self.torch_compile = _compile_backend(torch_compile)
        self.layout = self.LAYOUT
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
            config=self.config,
            past_cov_dim=past_cov_dim,
            future_cov_dim=future.shape[1] if future is not None else 0,
            static_cov_dim=static.shape[1] if static is not None else 0,
            nr_params=nr_params,
            torch_compile=self.torch_compile,
            **self.pl_module_params,
        )

    def __setstate__(self, state: dict) -> None:
        found = state.get("layout", 1)
        if found != self.LAYOUT:
            raise RuntimeError(
                f"this CircuitNet was saved with layer layout {found} (CircuitNet 0.1), but "
                f"this version builds layout {self.LAYOUT} (a factorised read-out and a "
                "linear path): the saved weights do not fit. Retrain the model with this "
                "version, or load it with the cnforecast version that saved it."
            )
        super().__setstate__(state)

    @property
    def supports_multivariate(self) -> bool:
        return True

    @property
    def supports_static_covariates(self) -> bool:
        return True

    @property
    def supports_likelihood_parameter_prediction(self) -> bool:
        return True

    def export_network(self) -> CircuitNetwork:
        """The trained layers as a plain torch module, for inference without darts.

        The returned :class:`~cnforecast.layers.network.CircuitNetwork` holds a copy of the
        weights (and of the reversible instance normalisation) and gives this model's
        forecasts; save it with :func:`cnforecast.inference.save_network` and forecast with
        :class:`cnforecast.inference.NetworkPredictor`. ``cnforecast fit`` writes it into
        every model directory.

        Examples
        --------
        >>> from darts.datasets import AirPassengersDataset  # doctest: +SKIP
        >>> model = CircuitNetModel(24, 12, n_epochs=1).fit(series)  # doctest: +SKIP
        >>> network = model.export_network()  # doctest: +SKIP
        >>> network(torch.randn(8, 24, 1)).shape  # (B, H, C, R)  # doctest: +SKIP
        torch.Size([8, 12, 1, 1])
        """
        module = self.model
        if module is None:
            raise ValueError("the model has no trained network yet: call fit() (or load a model)")
        rin = module.rin
        network = CircuitNetwork(
            module.config,
            module.network_shape,
            n_targets=module.n_targets,
            instance_norm=None if rin is None else {"eps": rin.eps, "affine": rin.affine},
        )
        weights = {
            key: value
            for key, value in module.state_dict().items()
            if key.split(".")[0] in (*LAYER_NAMES, "rin")
        }
        network.to(module.dtype).load_state_dict(weights, strict=True)
        return network.eval()

    def circuit_graph(self) -> CircuitGraph:
        """The wiring between units.

        Read from the trained network's saved state when the model is fitted (the wiring
        travels with :meth:`save` and :meth:`load`), otherwise drawn from ``n_units``,
        ``n_links`` and ``wiring_seed`` exactly as training will draw it.
        """
        if self.model is not None:
            return self.model.circuit.graph()
        config = self.config
        return CircuitGraph.from_adjacency(
            build_wiring(config.n_units, config.n_links, config.wiring_seed)
        )

    def fit(self, series, *args, **kwargs):
        bound = _FIT_SIGNATURE.bind(self, series, *args, **kwargs).arguments
        for role in ("series", "past_covariates", "future_covariates", "val_series"):
            _check_finite(bound.get(role), role)
        self._check_series_length(series)
        loss = self.pl_module_params.get("loss_fn")
        if isinstance(loss, torch.nn.HuberLoss) and loss.delta == 1.0 and not self.likelihood:
            _warn_loss_scale(series)
        if self.model_params.get("cycle_length") == "auto":
            self._resolve_auto_cycle(series)
        return super().fit(series, *args, **kwargs)

    fit.__doc__ = MixedCovariatesTorchModel.fit.__doc__

    def predict(self, n: int, series=None, *args, **kwargs):
        bound = _PREDICT_SIGNATURE.bind(self, n, series, *args, **kwargs).arguments
        for role in ("series", "past_covariates", "future_covariates"):
            _check_finite(bound.get(role), role)
        return super().predict(n, series, *args, **kwargs)

    predict.__doc__ = MixedCovariatesTorchModel.predict.__doc__

    def _resolve_auto_cycle(self, series: TimeSeries | Sequence[TimeSeries]) -> None:
        """``cycle_length="auto"``: the cycle of the training series' frequency, or none."""
        first = series if isinstance(series, TimeSeries) else next(iter(series))
        length = auto_cycle_length(first.freq)
        user = {
            "add_encoders": self.model_params.get("add_encoders"),
            "likelihood": self.likelihood,
        }
        try:
            settings = _cycle_settings(length, user) if length else {"add_encoders": None}
        except ValueError as exc:  # a likelihood or transformer the cycle cannot go with
            logger.info("cycle_length='auto': no cycle (%s)", exc)
            length, settings = None, {"add_encoders": None}
        self.config = replace(self.config, cycle_length=length)
        self.add_encoders = settings["add_encoders"] or self.model_params.get("add_encoders")

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
