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
                df.to_csv(handle, index=False)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            df.to_parquet(tmp, index=False)
    return Path(path)
