"""A vectorised training dataset: darts' windows, cut from whole-series tensors.

darts' :class:`~darts.utils.data.torch_datasets.training_dataset.SequentialTorchTrainingDataset`
builds every training window in Python: one ``__getitem__`` a window (index arithmetic,
a random sample draw and seven NumPy slices), then the DataLoader stacks the windows of a
batch field by field. For a small model that Python work costs more than the training step.

:class:`WindowDataset` is that same dataset (a subclass: same constructor, same length, same
index -> window mapping, same errors), with the data held once as whole-series tensors:

- ``dataset[i]`` returns exactly the :class:`TorchTrainingSample` darts returns (NumPy views);
- ``dataset.__getitems__(indices)`` (which torch's DataLoader calls with a whole batch of
  indices) returns the collated :class:`TorchTrainingBatch` directly: each field is one
  ``index_select`` of the rows of all the batch's windows. :func:`collate_windows` passes such
  a batch through and collates lists of samples (any other darts dataset) as darts does.

The DataLoader's sampler is untouched, so with the same seed the same indices are drawn and
the batches are equal to darts' batches, field by field. (One difference: darts' dataset draws
a NumPy random number for every window, to pick a sample of stochastic series; this one takes
deterministic series only and draws none, so NumPy's global random state is left as it was.)

:class:`WindowsMixin` makes a darts torch model train on it: ``fit`` (through
``_build_train_dataset``) builds a :class:`WindowDataset` where it can (fixed input length,
deterministic series, ``output_chunk_length >= 1``) and darts' own dataset otherwise;
``fit_from_dataset`` with any darts training dataset keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from darts import TimeSeries
from darts.utils.data.torch_datasets.training_dataset import (
    SequentialTorchTrainingDataset,
    TorchTrainingDataset,
)
from darts.utils.data.torch_datasets.utils import (
    TorchTrainingBatch,
    TorchTrainingSample,
    _batch_collate_fn_train,
)
from darts.utils.data.utils import FeatureType

__all__ = ["UnsupportedWindows", "WindowDataset", "WindowsMixin", "collate_windows"]

logger = logging.getLogger(__name__)

# the fields of a window, with the feature whose index bounds they use
_PAST_FIELDS = (
    ("past_target", FeatureType.PAST_TARGET),
    ("past_covariates", FeatureType.PAST_COVARIATES),
    ("historic_future_covariates", FeatureType.HISTORIC_FUTURE_COVARIATES),
)
_FUTURE_FIELDS = (
    ("future_target", FeatureType.FUTURE_TARGET),
    ("future_covariates", FeatureType.FUTURE_COVARIATES),
    ("sample_weight", FeatureType.SAMPLE_WEIGHT),
)


class UnsupportedWindows(ValueError):
    """The inputs need darts' own dataset (variable input length, stochastic series, ...)."""


class _Field:
    """One field of every window: the rows of all series in one tensor, and where each starts.

    ``first_start[i]`` is the row (in the concatenated tensor) where series ``i``'s window
    ``0`` (the most recent one, ending at the series' end) starts; window ``j`` of that
    series starts ``(j % n_windows[i]) * stride`` rows earlier.
    """

    def __init__(self, values: np.ndarray, first_start: np.ndarray, length: int) -> None:
        self.values = values  # (rows, components)
        self.tensor = torch.from_numpy(values)
        self.first_start = first_start  # (n_series,)
        self.first_start_t = torch.from_numpy(first_start)
        self.length = length
        self.offsets = torch.arange(length)
        self.offsets_np = np.arange(length, dtype=np.int64)

    def to(self, device: torch.device) -> None:
        self.tensor = self.tensor.to(device)
        self.first_start_t = self.first_start_t.to(device)
        self.offsets = self.offsets.to(device)

    def window(self, series_idx: int, back: int) -> np.ndarray:
        start = int(self.first_start[series_idx]) - back
        return self.values[start : start + self.length]

    def windows(self, series_idx: np.ndarray, back: np.ndarray) -> torch.Tensor:
        """The windows of a batch, cut on the CPU with NumPy (fewer, cheaper calls)."""
        # (B,) -> (B, length) row numbers -> (B * length, components) -> (B, length, components)
        rows = (self.first_start[series_idx] - back)[:, None] + self.offsets_np
        picked = np.take(self.values, rows.ravel(), axis=0)
        return torch.from_numpy(picked.reshape(len(series_idx), self.length, -1))

    def windows_on_device(self, series_idx: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
        """The windows of a batch, cut with torch where the series tensor lives."""
        starts = self.first_start_t[series_idx] - back
        rows = (starts.unsqueeze(1) + self.offsets).reshape(-1)
        picked = self.tensor.index_select(0, rows)
        return picked.view(series_idx.shape[0], self.length, self.tensor.shape[1])


class WindowDataset(SequentialTorchTrainingDataset):
    """darts' sequential training dataset, with windows gathered by tensor indexing.

    Takes the arguments of darts'
    :class:`~darts.utils.data.torch_datasets.training_dataset.SequentialTorchTrainingDataset`
    and gives the same windows in the same order (``dataset[i]`` equals darts' ``dataset[i]``
    field by field). A whole batch is gathered at once by :meth:`__getitems__`.

    Parameters
    ----------
    series, past_covariates, future_covariates, input_chunk_length, output_chunk_length,
    output_chunk_shift, stride, max_samples_per_ts, use_static_covariates, sample_weight
        As for darts' ``SequentialTorchTrainingDataset``; ``input_chunk_length`` must be an
        integer (or a ``(L, L)`` tuple) and ``output_chunk_length`` at least 1.
    device
        Where batches are cut: ``None`` (the CPU, with NumPy) or a torch device, to which the
        whole series are copied once; batches are then cut there with torch (use the
        DataLoader with ``num_workers=0``).

    Raises
    ------
    UnsupportedWindows
        Variable input lengths, stochastic series or ``output_chunk_length == 0``: use darts'
        dataset (:class:`WindowsMixin` does so by itself).
    ValueError
        As darts: too short series, covariates that do not cover a window, sample weights
        with a wrong number of components, series of different widths or dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> from darts import TimeSeries
    >>> s = TimeSeries.from_values(np.arange(20, dtype=np.float32))
    >>> ds = WindowDataset(s, input_chunk_length=4, output_chunk_length=2)
    >>> len(ds), ds[0].past_target.ravel().tolist(), ds[0].future_target.ravel().tolist()
    (15, [14.0, 15.0, 16.0, 17.0], [18.0, 19.0])
    >>> ds.__getitems__([0, 14]).past_target.shape
    torch.Size([2, 4, 1])
    """

    def __init__(
        self,
        series: TimeSeries | Sequence[TimeSeries],
        past_covariates: TimeSeries | Sequence[TimeSeries] | None = None,
        future_covariates: TimeSeries | Sequence[TimeSeries] | None = None,
        input_chunk_length: int | tuple[int, int] = 12,
        output_chunk_length: int = 1,
        output_chunk_shift: int = 0,
        stride: int = 1,
        max_samples_per_ts: int | None = None,
        use_static_covariates: bool = True,
        sample_weight: TimeSeries | Sequence[TimeSeries] | str | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__(
            series=series,
            past_covariates=past_covariates,
            future_covariates=future_covariates,
            input_chunk_length=input_chunk_length,
            output_chunk_length=output_chunk_length,
            output_chunk_shift=output_chunk_shift,
            stride=stride,
            max_samples_per_ts=max_samples_per_ts,
            use_static_covariates=use_static_covariates,
            sample_weight=sample_weight,
        )
        if self.min_input_chunk_length != self.input_chunk_length:
            raise UnsupportedWindows("variable input chunk lengths need darts' dataset")
        if self.output_chunk_length < 1:
            raise UnsupportedWindows("output_chunk_length 0 needs darts' dataset")
        roles = {
            "series": self.series,
            "past_covariates": self.past_covariates,
            "future_covariates": self.future_covariates,
            "sample_weight": self.sample_weight,
        }
        for role, items in roles.items():
            if items is not None and any(s.n_samples > 1 for s in items):
                raise UnsupportedWindows(f"stochastic {role} need darts' dataset")
        self._build()
        self.device = torch.device("cpu")
        self._torch_path = False
        if device is not None:
            self.to(device)

    def _build(self) -> None:
        n_series = len(self.series)
        lengths = np.array([len(s) for s in self.series], dtype=np.int64)
        n_windows = -(-(lengths - self.size_of_both_chunks + 1) // self.stride)
        for i, count in enumerate(n_windows):
            if count < 1:
                raise ValueError(
                    "The dataset contains target `series` that are too short to extract even a "
                    f"single example. Expected min length: `{self.size_of_both_chunks}`, "
                    f"received length `{lengths[i]}` (at series sequence idx `{i}`)."
                )
        # how far back (rows) the oldest window of each series lies from its newest one
        deepest = (n_windows - 1) * self.stride
        sources = {
            "past_target": self.series,
            "future_target": self.series,
            "past_covariates": self.past_covariates,
            "historic_future_covariates": self.future_covariates,
            "future_covariates": self.future_covariates,
            "sample_weight": self.sample_weight,
        }
        firsts: dict[str, list[int]] = {name: [] for name, items in sources.items() if items}
        for i, target in enumerate(self.series):
            weight = self.sample_weight[i] if self.sample_weight is not None else None
            if weight is not None and weight.n_components not in (1, target.n_components):
                raise ValueError(
                    f"The number of components in `{FeatureType.SAMPLE_WEIGHT.value}` must "
                    f"either be `1` or match the number of target series components "
                    f"`{target.n_components}` (at series sequence idx `{i}`)."
                )
            # darts' own bounds (and checks) for the newest window; the others shift with it
            bounds = self._memory_indexer(
                series_idx=i,
                series=target,
                shift=self.shift,
                input_chunk_length=self.input_chunk_length,
                output_chunk_length=self.output_chunk_length,
                end_of_output_idx=len(target),
                past_covariates=self.past_covariates[i] if self.past_covariates else None,
                future_covariates=self.future_covariates[i] if self.future_covariates else None,
                sample_weight=weight,
                n=None,
            )
            for name, feature in _PAST_FIELDS + _FUTURE_FIELDS:
                if name not in firsts:
                    continue
                start, end = bounds[feature]
                available = len(sources[name][i])
                if start is None or start - deepest[i] < 0 or end > available:
                    raise ValueError(
                        f"Invalid `{name}` at series sequence idx `{i}`: its {available} steps "
                        "do not cover every training window."
                    )
                firsts[name].append(start)
        self._n_windows = n_windows
        self._n_windows_t = torch.from_numpy(n_windows)
        self._fields: dict[str, _Field] = {}
        lengths_of = {"past": self.input_chunk_length, "future": self.output_chunk_length}
        for name, feature in _PAST_FIELDS + _FUTURE_FIELDS:
            if name not in firsts:
                continue
            items = sources[name]
            arrays = [s.random_component_values(copy=False) for s in items]
            if len({a.shape[1] for a in arrays}) > 1:
                raise ValueError(f"the {name} series have different numbers of components")
            values = np.ascontiguousarray(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))
            base = np.concatenate([[0], np.cumsum([len(a) for a in arrays])[:-1]]).astype(np.int64)
            first = base + np.asarray(firsts[name], dtype=np.int64)
            length = lengths_of["past" if (name, feature) in _PAST_FIELDS else "future"]
            self._fields[name] = _Field(values, first, length)
        self._static: list[np.ndarray] | None = None
        self._static_t: torch.Tensor | None = None
        if self.uses_static_covariates_covariates:
            self._static = [s.static_covariates_values(copy=False) for s in self.series]
            if any(v is None for v in self._static):
                raise ValueError("some target series have static covariates, others have none")
            if len({v.shape for v in self._static}) > 1:
                raise ValueError("the target series have static covariates of different shapes")
            self._static_np = np.stack(self._static)
            self._static_t = torch.from_numpy(self._static_np)
        logger.debug(
            "WindowDataset: %d series, %d windows, fields %s",
            n_series,
            len(self),
            sorted(self._fields),
        )

    def to(self, device: str | torch.device) -> WindowDataset:
        """Move the whole-series tensors to ``device``; batches are then cut there."""
        self.device = torch.device(device)
        self._torch_path = True
        for f in self._fields.values():
            f.to(self.device)
        self._n_windows_t = self._n_windows_t.to(self.device)
        if self._static_t is not None:
            self._static_t = self._static_t.to(self.device)
        return self

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        series_idx = index // self.max_samples_per_ts
        j = index - series_idx * self.max_samples_per_ts
        return series_idx, (j % int(self._n_windows[series_idx])) * self.stride

    def __getitem__(self, index: int) -> TorchTrainingSample:
        index = int(index)
        if index < 0:
            index += len(self)
        series_idx, back = self._locate(index)
        fields: dict[str, Any] = {
            name: f.window(series_idx, back) for name, f in self._fields.items()
        }
        if self._static is not None:
            fields["static_covariates"] = self._static[series_idx]
        return TorchTrainingSample(**fields)

    def __getitems__(self, indices: Sequence[int]) -> TorchTrainingBatch:
        """The collated batch of the windows ``indices``: one index operation a field."""
        if self._torch_path:
            return self._getitems_on_device(indices)
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"window index out of range for {len(self)} windows")
        series_idx = idx // self.max_samples_per_ts
        j = idx - series_idx * self.max_samples_per_ts
        back = (j % self._n_windows[series_idx]) * self.stride
        fields: dict[str, Any] = {
            name: f.windows(series_idx, back) for name, f in self._fields.items()
        }
        if self._static is not None:
            fields["static_covariates"] = torch.from_numpy(self._static_np[series_idx])
        return TorchTrainingBatch(**fields)

    def _getitems_on_device(self, indices: Sequence[int]) -> TorchTrainingBatch:
        idx = torch.as_tensor(indices, dtype=torch.long).to(self.device, non_blocking=True)
        series_idx = torch.div(idx, self.max_samples_per_ts, rounding_mode="floor")
        j = idx - series_idx * self.max_samples_per_ts
        back = torch.remainder(j, self._n_windows_t[series_idx]) * self.stride
        fields: dict[str, Any] = {
            name: f.windows_on_device(series_idx, back) for name, f in self._fields.items()
        }
        if self._static_t is not None:
            fields["static_covariates"] = self._static_t.index_select(0, series_idx)
        return TorchTrainingBatch(**fields)


def collate_windows(batch: TorchTrainingBatch | list[TorchTrainingSample]) -> TorchTrainingBatch:
    """Pass a batch gathered by :meth:`WindowDataset.__getitems__` through; collate samples
    of any other darts training dataset as darts does."""
    if isinstance(batch, TorchTrainingBatch):
        return batch
    return _batch_collate_fn_train(batch)


class WindowsMixin:
    """Train a darts torch model on :class:`WindowDataset` (put it before the darts base).

    ``fit`` builds a :class:`WindowDataset` where it can and darts' own dataset otherwise;
    set ``use_window_dataset = False`` on a model (or its class) to always use darts'.
    Set ``window_device = "cuda"`` to hold the series on the GPU and cut the batches there
    (the DataLoader then runs without pinned memory; keep ``num_workers=0``).
    """

    #: Whether ``fit`` trains on :class:`WindowDataset` (where the inputs allow it).
    use_window_dataset: bool = True
    #: Where :class:`WindowDataset` cuts batches: ``None`` (the CPU) or a torch device.
    window_device: str | None = None

    def _build_train_dataset(
        self,
        series: Sequence[TimeSeries],
        past_covariates: Sequence[TimeSeries] | None,
        future_covariates: Sequence[TimeSeries] | None,
        sample_weight: Sequence[TimeSeries] | str | None,
        max_samples_per_ts: int | None,
        stride: int = 1,
    ) -> TorchTrainingDataset:
        darts_args = dict(
            series=series,
            past_covariates=past_covariates,
            future_covariates=future_covariates,
            sample_weight=sample_weight,
            max_samples_per_ts=max_samples_per_ts,
            stride=stride,
        )
        if not (self.use_window_dataset and self._requires_training):
            return super()._build_train_dataset(**darts_args)
        try:
            return WindowDataset(
                series=series,
                past_covariates=past_covariates,
                future_covariates=future_covariates,
                input_chunk_length=(self.min_input_chunk_length, self.input_chunk_length),
                output_chunk_length=self.output_chunk_length,
                output_chunk_shift=self.output_chunk_shift,
                stride=stride,
                max_samples_per_ts=max_samples_per_ts,
                use_static_covariates=self.uses_static_covariates,
                sample_weight=sample_weight,
                device=self.window_device,
            )
        except UnsupportedWindows as reason:
            logger.info("training on darts' dataset: %s", reason)
            return super()._build_train_dataset(**darts_args)

    def _setup_for_train(
        self,
        train_dataset: TorchTrainingDataset,
        val_dataset: TorchTrainingDataset | None = None,
        trainer: Any = None,
        verbose: bool | None = None,
        epochs: int = 0,
        dataloader_kwargs: dict[str, Any] | None = None,
        load_best: bool = False,
    ) -> dict[str, Any]:
        # a batch from WindowDataset.__getitems__ is already collated
        kwargs = {"collate_fn": collate_windows, **(dataloader_kwargs or {})}
        if getattr(train_dataset, "device", torch.device("cpu")).type != "cpu":
            kwargs.setdefault("pin_memory", False)  # the batches are on the device already
        return super()._setup_for_train(
            train_dataset=train_dataset,
            val_dataset=val_dataset,
            trainer=trainer,
            verbose=verbose,
            epochs=epochs,
            dataloader_kwargs=kwargs,
            load_best=load_best,
        )
