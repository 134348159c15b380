"""Job outputs: tables written atomically and overwrite-safe.

Every file a job writes goes first to a temporary file in the same directory, is flushed to
disk, and is then moved into place, so a reader (or a job that is killed half-way) never
sees a half-written output; folders are assembled in a temporary sibling and renamed into
place. The atomic writes are the engine's (:mod:`cnforecast.engine.provenance`); this
module adds the table formats. An existing output is refused with
:class:`~cnforecast.errors.OutputExistsError` unless ``overwrite=True``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cnforecast.engine.provenance import (
    atomic_directory,
    atomic_file,
    atomic_write_bytes,
    atomic_write_text,
    check_output,
    sha256_file,
)
from cnforecast.jobs.errors import JobError

__all__ = [
    "TABLE_FORMATS",
    "atomic_directory",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
    "sha256_file",
    "table_format",
    "write_table",
]

#: Table formats the jobs read and write, by file suffix.
TABLE_FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | os.PathLike[str]) -> str:
    """The table format (``"csv"`` or ``"parquet"``) of ``path``, from its suffix.

    Examples
    --------
    >>> table_format("forecast.parquet")
    'parquet'
    """
    suffix = Path(path).suffix.lower()
    try:
        return TABLE_FORMATS[suffix]
    except KeyError:
        raise JobError(
            f"unsupported table file {str(path)!r}: use one of the suffixes "
            f"{', '.join(TABLE_FORMATS)}"
        ) from None


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``df`` (without its index) as CSV or Parquet, by the suffix of ``path``, atomically.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> out = write_table(pd.DataFrame({"a": [1, 2]}), f"{folder}/t.csv")
    >>> out.read_text()
    'a\\n1\\n2\\n'
    """
    fmt = table_format(path)
    with atomic_file(path, overwrite) as tmp:
        if fmt == "csv":
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                _times_as_text(df).to_csv(handle, index=False)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            df.to_parquet(tmp, index=False)
    return Path(path)


def _times_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its date/time columns as the text ``to_csv`` writes for them.

    Forecast tables repeat a few times many times over (every series shares the forecast
    steps), and pandas formats every cell: formatting each distinct time once and repeating
    the text writes the same file about 40 % faster (``tests/test_jobs_io.py`` checks the
    bytes are the same, time zones, date-only columns and missing times included).
    """
    times = [
        name
        for name, dtype in df.dtypes.items()
        if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)
    ]
    if not times:
        return df
    out = df.copy(deep=False)
    for name in times:
        codes, uniques = pd.factorize(df[name])
        text = np.asarray(pd.Index(uniques).astype(str), dtype=object)
        out[name] = np.where(codes >= 0, text[np.maximum(codes, 0)], "")
    return out
