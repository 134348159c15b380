"""Public loading API: find (or download) a data-set file, verify it, read it.

See :mod:`cnforecast.datasets.paths` for where files are looked for and where downloads go.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cnforecast.datasets.checksums import verify_sha256
from cnforecast.datasets.download import download_file
from cnforecast.datasets.errors import DatasetNotFoundError, MalformedDatasetError
from cnforecast.datasets.paths import (
    ENV_OFFLINE,
    Location,
    download_dir,
    is_offline,
    search_locations,
)
from cnforecast.datasets.registry import DatasetInfo, get_dataset_info

if TYPE_CHECKING:  # darts is imported by the functions that build series, not to find files
    from darts import TimeSeries

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def find_local(name: str, path: PathLike | None = None) -> Path | None:
    """The first existing copy of data set ``name`` in the search order, or ``None``.

    Neither downloads nor verifies anything.
    """
    info = get_dataset_info(name)
    for location in search_locations(info.file_name, path):
        if location.path.is_file():
            return location.path
    return None


def dataset_path(
    name: str, path: PathLike | None = None, *, download: bool = True, verify: bool = True
) -> Path:
    """Local path of data set ``name``, downloading it when allowed, checksum verified.

    Parameters
    ----------
    name
        Data-set name, any case (``"etth1"`` is ``"ETTh1"``).
    path
        The file itself or a folder holding it; then no other place is searched and nothing
        is downloaded. ``None`` searches ``CNFORECAST_DATA``, the repository's ``datasets/``
        folder and the user cache, in that order.
    download
        Allow downloading a missing file that has a public address. ``CNFORECAST_OFFLINE=1``
        forbids it as well.
    verify
        Check the sha256 when the registry knows it (a warning is logged when it does not).

    Returns
    -------
    Path
        The file.

    Raises
    ------
    UnknownDatasetError
        ``name`` is not registered.
    DatasetNotFoundError
        The file is nowhere and could not be downloaded; the message lists every place
        searched and how to obtain the file.
    ChecksumMismatchError
        The file (found or downloaded) is not the published one.
    DownloadError
        The download failed; no partial file is left.

    Examples
    --------
    With the real file in ``CNFORECAST_DATA`` or ``datasets/`` (or downloadable):

    >>> dataset_path("ETTh1")  # doctest: +SKIP
    PosixPath('.../datasets/ETTh1.csv')
    """
    info = get_dataset_info(name)
    locations = search_locations(info.file_name, path)
    found = next((loc.path for loc in locations if loc.path.is_file()), None)
    if found is None:
        found = _obtain(info, locations, explicit=path is not None, download=download)
    if verify:
        verify_sha256(found, info.sha256, label=info.name)
    return found


def _obtain(
    info: DatasetInfo, locations: list[Location], *, explicit: bool, download: bool
) -> Path:
    if explicit:
        reason = "an explicit path was given, so no other place was searched"
    elif info.url is None:
        reason = "it has no direct download address"
    elif is_offline():
        reason = f"{ENV_OFFLINE} is set"
    elif not download:
        reason = "download=False"
    else:
        return download_file(info.url, download_dir() / info.file_name, sha256=info.sha256)
    places = "\n".join(f"  - {location}" for location in locations)
    raise DatasetNotFoundError(
        f"data set {info.name} ({info.file_name}) was not found and was not downloaded "
        f"({reason}). Looked in:\n{places}\nTo obtain it: {info.how_to_obtain}",
        name=info.name,
        searched=[location.path for location in locations],
    )


def load_dataframe(
    name: str, path: PathLike | None = None, *, download: bool = True, verify: bool = True
) -> pd.DataFrame:
    """Every row of data set ``name`` as a DataFrame, for raw access.

    Parameters
    ----------
    name, path, download
        As for :func:`dataset_path`.
    verify
        Check the sha256 when known, and the number of rows against the published file.
        Pass ``False`` to read another version of the file (or a synthetic one).

    Returns
    -------
    pandas.DataFrame
        A ``RangeIndex`` over the file's rows (none dropped, none added), the time column
        parsed to ``datetime64``, then the value columns in file order as ``float64``, with
        repaired header names (Weather's ``U+FFFD`` become ``²`` and ``µ``).

    Raises
    ------
    MalformedDatasetError
        The file cannot be read as this data set; the message names the file and the problem.
    """
    return _read(get_dataset_info(name), path, download=download, verify=verify)[1]


def _read(
    info: DatasetInfo, path: PathLike | None, *, download: bool, verify: bool
) -> tuple[Path, pd.DataFrame]:
    file = dataset_path(info.name, path, download=download, verify=verify)
    from cnforecast.datasets.reading import read_frame

    frame = read_frame(file, info)
    if verify and info.n_rows is not None and len(frame) != info.n_rows:
        raise MalformedDatasetError(
            file,
            f"{len(frame)} data rows where the published {info.name} file has {info.n_rows} "
            "(truncated or another version); pass verify=False to read it anyway",
        )
    logger.debug("read %s: %d rows, %d series", file, len(frame), info.n_series)
    return file, frame


def load_dataset(
    name: str,
    path: PathLike | None = None,
    *,
    download: bool = True,
    verify: bool = True,
    dtype: type[np.floating] = np.float32,
) -> TimeSeries:
    """Data set ``name`` as one multivariate darts TimeSeries, every row kept.

    Components are the value columns in file order (the target ``OT`` last, as in the
    files). The index depends on the record's ``time_index``:

    - ``"datetime"`` (ETT, Electricity, Traffic, Exchange): the timestamps, which must form
      a regular grid at the data set's frequency, else :class:`MalformedDatasetError`;
    - ``"range"`` (Weather): row positions ``0 .. n-1``. The Weather file has one duplicated
      timestamp and one 100-minute gap; a time index would have to drop or insert rows,
      while the literature indexes rows by position, and its window counts (10444 test
      windows at lookback 96, horizon 96) need all 52,696 rows. The timestamps are given by
      :func:`load_timestamps`, position for position.

    Parameters
    ----------
    name, path, download, verify
        As for :func:`load_dataframe`.
    dtype
        Value type of the series.

    Examples
    --------
    On a small synthetic file in the ETTh1 format (``verify=False``: it is not the
    published file); ``load_dataset("ETTh1")`` reads the real one the same way.

    >>> import tempfile
    >>> from cnforecast.datasets import write_synthetic_dataset
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = write_synthetic_dataset("ETTh1", folder.name, 48)
    >>> series = load_dataset("etth1", path=folder.name, verify=False)
    >>> series.n_timesteps, series.n_components, series.dtype, series.freq_str
    (48, 7, dtype('float32'), 'h')
    >>> folder.cleanup()
    """
    info = get_dataset_info(name)
    file, frame = _read(info, path, download=download, verify=verify)
    from cnforecast.datasets.reading import frame_to_series

    return frame_to_series(file, frame, info, dtype=dtype)


def load_timestamps(
    name: str, path: PathLike | None = None, *, download: bool = True, verify: bool = True
) -> pd.DatetimeIndex:
    """The time column of data set ``name``, one entry per row (duplicates included).

    Position ``i`` is the time of row ``i`` of :func:`load_dataset`'s series: the way to
    label positions of a data set indexed by position (Weather).
    """
    info = get_dataset_info(name)
    frame = _read(info, path, download=download, verify=verify)[1]
    return pd.DatetimeIndex(frame[info.time_column], name=info.time_column)
