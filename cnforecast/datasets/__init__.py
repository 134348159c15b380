"""Benchmark data sets of long-horizon forecasting: registry, loading, standard splits.

>>> from cnforecast.datasets import get_dataset_info
>>> get_dataset_info("weather").n_series
21

Typical use (needs the files, see ``datasets/README.md``)::

    from cnforecast.datasets import standard_split
    split = standard_split("ETTh1", lookback=96)   # train / val / test, scaled
    split.n_windows(horizon=96)                      # 2785 test windows
"""

from cnforecast._lazy import lazy_getattr

# Imported on first use: finding and listing files needs neither darts nor torch.
_EXPORTS = {
    "ChecksumMismatchError": "cnforecast.datasets.errors",
    "DatasetError": "cnforecast.datasets.errors",
    "DatasetNotFoundError": "cnforecast.datasets.errors",
    "DownloadError": "cnforecast.datasets.errors",
    "MalformedDatasetError": "cnforecast.datasets.errors",
    "SplitError": "cnforecast.datasets.errors",
    "UnknownDatasetError": "cnforecast.datasets.errors",
    "dataset_path": "cnforecast.datasets.loading",
    "find_local": "cnforecast.datasets.loading",
    "load_dataframe": "cnforecast.datasets.loading",
    "load_dataset": "cnforecast.datasets.loading",
    "load_timestamps": "cnforecast.datasets.loading",
    "search_locations": "cnforecast.datasets.paths",
    "DATASETS": "cnforecast.datasets.registry",
    "DatasetInfo": "cnforecast.datasets.registry",
    "available_datasets": "cnforecast.datasets.registry",
    "get_dataset_info": "cnforecast.datasets.registry",
    "ETT_HOURLY_SPLIT": "cnforecast.datasets.rules",
    "ETT_MINUTE_SPLIT": "cnforecast.datasets.rules",
    "RATIO_SPLIT": "cnforecast.datasets.rules",
    "FixedSplit": "cnforecast.datasets.rules",
    "RatioSplit": "cnforecast.datasets.rules",
    "SplitRule": "cnforecast.datasets.rules",
    "DatasetSplit": "cnforecast.datasets.splits",
    "SplitBorders": "cnforecast.datasets.splits",
    "split_borders": "cnforecast.datasets.splits",
    "standard_split": "cnforecast.datasets.splits",
    "write_synthetic_dataset": "cnforecast.datasets.synthetic",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

__all__ = [
    "DATASETS",
    "ETT_HOURLY_SPLIT",
    "ETT_MINUTE_SPLIT",
    "RATIO_SPLIT",
    "ChecksumMismatchError",
    "DatasetError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetSplit",
    "DownloadError",
    "FixedSplit",
    "MalformedDatasetError",
    "RatioSplit",
    "SplitBorders",
    "SplitError",
    "SplitRule",
    "UnknownDatasetError",
    "available_datasets",
    "dataset_path",
    "find_local",
    "get_dataset_info",
    "load_dataframe",
    "load_dataset",
    "load_timestamps",
    "search_locations",
    "split_borders",
    "standard_split",
    "write_synthetic_dataset",
]
