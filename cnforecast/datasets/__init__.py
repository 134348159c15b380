"""Benchmark data sets of long-horizon forecasting: registry, loading, standard splits.

>>> from cnforecast.datasets import get_dataset_info
>>> get_dataset_info("weather").n_series
21

Typical use (needs the files, see ``datasets/README.md``)::

    from cnforecast.datasets import standard_split
    split = standard_split("ETTh1", lookback=96)   # train / val / test, scaled
    split.n_windows(horizon=96)                      # 2785 test windows
"""

from cnforecast.datasets.errors import (
    ChecksumMismatchError,
    DatasetError,
    DatasetNotFoundError,
    DownloadError,
    MalformedDatasetError,
    SplitError,
    UnknownDatasetError,
)
from cnforecast.datasets.loading import (
    dataset_path,
    find_local,
    load_dataframe,
    load_dataset,
    load_timestamps,
)
from cnforecast.datasets.paths import search_locations
from cnforecast.datasets.registry import (
    DATASETS,
    DatasetInfo,
    available_datasets,
    get_dataset_info,
)
from cnforecast.datasets.rules import (
    ETT_HOURLY_SPLIT,
    ETT_MINUTE_SPLIT,
    RATIO_SPLIT,
    FixedSplit,
    RatioSplit,
    SplitRule,
)
from cnforecast.datasets.splits import DatasetSplit, SplitBorders, split_borders, standard_split
from cnforecast.datasets.synthetic import write_synthetic_dataset

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
