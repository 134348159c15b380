"""The model registry: every forecaster cnforecast knows, by name.

One explicit dict, used by the Python API (:func:`create_model`), the command line
(``cnforecast fit --model NAME``, ``cnforecast bench``) and the generic conformance test
suite (``tests/test_conformance.py``). Each entry says how to build the model, which
optional packages it needs, its default (literature) configuration and the small settings
it is tested with.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from darts.models.forecasting.torch_forecasting_model import TorchForecastingModel
from torch.optim.lr_scheduler import ExponentialLR

from cnforecast.models.recipe import DEFAULT_TRAINING

Factory = Callable[..., TorchForecastingModel]


class UnknownModelError(KeyError):
    """Raised for a model name that is not in :data:`MODELS`."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


class MissingDependencyError(ImportError):
    """Raised when a registered model needs an optional package that is not installed."""


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model.

    Parameters
    ----------
    name
        Registry key, also the name on the command line.
    description
        One line for ``cnforecast models`` and the docs.
    factory
        ``factory(input_chunk_length, output_chunk_length, **kwargs)`` returns a darts model.
    defaults
        The model's default configuration (for baselines: the literature's settings).
    test_settings
        Small, fast settings used by the conformance suite and the harness tests.
    requires
        Importable module names this model needs beyond the core dependencies.
    supports_past_covariates, supports_future_covariates, supports_static_covariates
        Which covariates the model accepts.
    probabilistic
        Whether the model accepts a darts likelihood.
    """

    name: str
    description: str
    factory: Factory
    defaults: Mapping[str, Any] = field(default_factory=dict)
    test_settings: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    supports_past_covariates: bool = True
    supports_future_covariates: bool = True
    supports_static_covariates: bool = True
    probabilistic: bool = True

    def missing_dependencies(self) -> list[str]:
        """The modules of :attr:`requires` that cannot be imported here."""
        return [mod for mod in self.requires if importlib.util.find_spec(mod) is None]

    def is_available(self) -> bool:
        return not self.missing_dependencies()

    def create(
        self, input_chunk_length: int, output_chunk_length: int, **kwargs: Any
    ) -> TorchForecastingModel:
        """Build the model: :attr:`defaults`, overridden by ``kwargs``."""
        missing = self.missing_dependencies()
        if missing:
            raise MissingDependencyError(
                f"model {self.name!r} needs the package(s) {', '.join(missing)}, which are not "
                "installed; install them with `pip install 'cnforecast[baselines]'`."
            )
        params = {**self.defaults, **kwargs}
        return self.factory(input_chunk_length, output_chunk_length, **params)


def _circuitnet(input_chunk_length: int, output_chunk_length: int, **kwargs: Any):
    from cnforecast.models.circuitnet import CircuitNetModel

    return CircuitNetModel(input_chunk_length, output_chunk_length, **kwargs)


def _darts_model(class_name: str) -> Factory:
    def factory(input_chunk_length: int, output_chunk_length: int, **kwargs: Any):
        import darts.models

        cls = getattr(darts.models, class_name)
        return cls(input_chunk_length, output_chunk_length, **kwargs)

    factory.__name__ = f"build_{class_name}"
    return factory


def _neuralforecast_model(nf_name: str) -> Factory:
    def factory(input_chunk_length: int, output_chunk_length: int, **kwargs: Any):
        from darts.models import NeuralForecastModel

        model_kwargs = dict(kwargs.pop("model_kwargs", None) or {})
        return NeuralForecastModel(
            input_chunk_length,
            output_chunk_length,
            model=nf_name,
            model_kwargs=model_kwargs,
            **kwargs,
        )

    factory.__name__ = f"build_nf_{nf_name}"
    return factory


_TINY_TRAINING = {"n_epochs": 2, "batch_size": 16}

# Time-Series-Library's default optimisation (run.py: Adam, lr 1e-4, batch 32, ``--lradj
# type1``: the learning rate halves after every epoch), used by the baselines whose published
# L = 96 numbers come from that code base. Epochs and early stopping are the benchmark's.
_TSLIB_TRAINING: dict[str, Any] = {
    "batch_size": 32,
    "optimizer_kwargs": {"lr": 1e-4},
    "lr_scheduler_cls": ExponentialLR,
    "lr_scheduler_kwargs": {"gamma": 0.5},
}

MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        "circuitnet": ModelSpec(
            name="circuitnet",
            description="CircuitNet: Circuit Motif Units, locally dense and globally sparse",
            factory=_circuitnet,
            # the model's own training recipe (CircuitNetModel applies it without being told;
            # shown here so that `cnforecast models circuitnet` lists it)
            defaults=DEFAULT_TRAINING,
            test_settings={
                **_TINY_TRAINING,
                "d_model": 8,
                "n_units": 3,
                "n_neurons": 4,
                "n_ports": 2,
                "n_rounds": 2,
                "n_heads": 2,
                "n_links": 1,
                "patch_len": 4,
                "stride": 2,
            },
        ),
        "transformer": ModelSpec(
            name="transformer",
            description="darts TransformerModel with the literature's settings (Vaswani et al.)",
            factory=_darts_model("TransformerModel"),
            defaults={
                "d_model": 512,
                "nhead": 8,
                "num_encoder_layers": 2,
                "num_decoder_layers": 1,
                "dim_feedforward": 2048,
                "dropout": 0.1,
                **_TSLIB_TRAINING,
            },
            test_settings={
                **_TINY_TRAINING,
                "d_model": 8,
                "nhead": 2,
                "num_encoder_layers": 1,
                "num_decoder_layers": 1,
                "dim_feedforward": 16,
            },
            supports_future_covariates=False,
            supports_static_covariates=False,
        ),
        "dlinear": ModelSpec(
            name="dlinear",
            description="darts DLinearModel, weights shared across components (Zeng et al. 2023)",
            factory=_darts_model("DLinearModel"),
            defaults={
                "shared_weights": True,
                "kernel_size": 25,
                # LTSF-Linear scripts/EXP-LongForecasting/Linear/etth1.sh: lr 0.005, batch 32
                **_TSLIB_TRAINING,
                "optimizer_kwargs": {"lr": 5e-3},
            },
            test_settings={**_TINY_TRAINING, "kernel_size": 5},
            # darts: with shared_weights=True, DLinear takes no past or future covariates
            supports_past_covariates=False,
            supports_future_covariates=False,
        ),
        "tide": ModelSpec(
            name="tide",
            description="darts TiDEModel (Das et al. 2023)",
            factory=_darts_model("TiDEModel"),
            defaults={"use_reversible_instance_norm": True, "batch_size": 32},
            test_settings={
                **_TINY_TRAINING,
                "hidden_size": 8,
                "decoder_output_dim": 4,
                "temporal_decoder_hidden": 8,
            },
        ),
        "tsmixer": ModelSpec(
            name="tsmixer",
            description="darts TSMixerModel (Chen et al. 2023)",
            factory=_darts_model("TSMixerModel"),
            defaults={"use_reversible_instance_norm": True, "batch_size": 32},
            test_settings={**_TINY_TRAINING, "hidden_size": 8, "ff_size": 8},
        ),
        "informer": ModelSpec(
            name="informer",
            description="neuralforecast Informer via darts NeuralForecastModel (Zhou et al. 2021)",
            factory=_neuralforecast_model("Informer"),
            defaults={
                "model_kwargs": {
                    "hidden_size": 512,
                    "n_head": 8,
                    "encoder_layers": 2,
                    "decoder_layers": 1,
                    "conv_hidden_size": 2048,
                    "factor": 5,
                    "dropout": 0.05,
                },
                **_TSLIB_TRAINING,
            },
            test_settings={
                **_TINY_TRAINING,
                "model_kwargs": {
                    "hidden_size": 8,
                    "n_head": 2,
                    "conv_hidden_size": 8,
                    "encoder_layers": 1,
                    "decoder_layers": 1,
                },
            },
            requires=("neuralforecast",),
            # neuralforecast Informer: EXOGENOUS_FUTR only
            supports_past_covariates=False,
            supports_static_covariates=False,
        ),
        "patchtst": ModelSpec(
            name="patchtst",
            description="neuralforecast PatchTST via darts NeuralForecastModel (Nie et al. 2023)",
            factory=_neuralforecast_model("PatchTST"),
            # Time-Series-Library scripts/long_term_forecast/ETT_script/PatchTST_ETTh1.sh at
            # L = 96, H = 96 (e_layers 1, n_heads 2; run.py: d_model 512, d_ff 2048, dropout
            # 0.1; models/PatchTST.py: patch 16, stride 8). The script uses n_heads 8 / 8 / 16
            # for H = 192 / 336 / 720: override model_kwargs to match those.
            defaults={
                "model_kwargs": {
                    "encoder_layers": 1,
                    "n_heads": 2,
                    "hidden_size": 512,
                    "linear_hidden_size": 2048,
                    "dropout": 0.1,
                    "fc_dropout": 0.1,
                    "head_dropout": 0.0,
                    "attn_dropout": 0.0,
                    "patch_len": 16,
                    "stride": 8,
                    "revin": True,
                },
                **_TSLIB_TRAINING,
            },
            test_settings={
                **_TINY_TRAINING,
                "model_kwargs": {
                    "encoder_layers": 1,
                    "n_heads": 2,
                    "hidden_size": 8,
                    "linear_hidden_size": 8,
                    "patch_len": 4,
                    "stride": 2,
                },
            },
            requires=("neuralforecast",),
            supports_past_covariates=False,
            supports_future_covariates=False,
            supports_static_covariates=False,
            probabilistic=True,
        ),
        "itransformer": ModelSpec(
            name="itransformer",
            description=(
                "neuralforecast iTransformer via darts NeuralForecastModel (Liu et al. 2024)"
            ),
            factory=_neuralforecast_model("iTransformer"),
            # thuml/iTransformer scripts/multivariate_forecasting/ETT/iTransformer_ETTh1.sh at
            # H = 96 / 192 (e_layers 2, d_model 256, d_ff 256; run.py: n_heads 8, dropout 0.1,
            # factor 1, use_norm). The script uses d_model = d_ff = 512 for H = 336 / 720.
            defaults={
                "model_kwargs": {
                    "hidden_size": 256,
                    "n_heads": 8,
                    "e_layers": 2,
                    "d_ff": 256,
                    "factor": 1,
                    "dropout": 0.1,
                    "use_norm": True,
                },
                **_TSLIB_TRAINING,
            },
            test_settings={
                **_TINY_TRAINING,
                "model_kwargs": {"hidden_size": 8, "n_heads": 2, "e_layers": 1, "d_ff": 8},
            },
            requires=("neuralforecast",),
            supports_past_covariates=False,
            supports_future_covariates=True,
            supports_static_covariates=False,
            probabilistic=True,
        ),
    }
)


def available_models() -> list[str]:
    """Names of the registered models, in registry order."""
    return list(MODELS)


def get_model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` for ``name``; a clear error listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(MODELS)}"
        ) from None


def create_model(
    name: str, input_chunk_length: int, output_chunk_length: int, **kwargs: Any
) -> TorchForecastingModel:
    """Build registered model ``name`` with its defaults, overridden by ``kwargs``.

    Examples
    --------
    >>> from cnforecast.models.registry import create_model
    >>> model = create_model("dlinear", 24, 12, n_epochs=1)
    >>> type(model).__name__
    'DLinearModel'
    """
    return get_model_spec(name).create(input_chunk_length, output_chunk_length, **kwargs)
