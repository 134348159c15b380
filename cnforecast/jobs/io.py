"""Atomic, overwrite-safe writing of job outputs.

Every file a job writes goes first to a temporary file in the same directory, is flushed to
disk, and is then moved into place with :func:`os.replace`, so a reader (or a job that is
killed half-way) never sees a half-written output. Directories (a model directory, a backtest
report) are assembled in a temporary sibling directory and renamed into place the same way.

An existing output is refused with :class:`~cnforecast.jobs.errors.OutputExistsError` unless
``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cnforecast.jobs.errors import JobError, OutputExistsError

#: Table formats the jobs read and write, by file suffix.
TABLE_FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def check_output(path: str | os.PathLike[str], overwrite: bool, what: str = "output") -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(
            f"{what} {str(path)!r} already exists; pass --overwrite (overwrite=True) to replace it"
        )


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    The temporary file is removed if the block raises. The caller writes (and closes) the
    temporary file inside the block.
    """
    path = Path(path)
    check_output(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        check_output(path, overwrite)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    with atomic_file(path, overwrite) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite)


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


@contextlib.contextmanager
def atomic_directory(
    path: str | os.PathLike[str], overwrite: bool = False, marker: str | None = None
) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; rename it to ``path`` if the block succeeds.

    Parameters
    ----------
    path
        The directory to create.
    overwrite
        Replace an existing ``path``. The old directory is moved aside, the new one renamed
        into place, then the old one deleted.
    marker
        A file name that identifies outputs of this kind (e.g. ``manifest.json``). An existing,
        non-empty directory without it is never overwritten, so a mistyped ``--out`` cannot
        delete unrelated files.
    """
    path = Path(path)
    _check_directory(path, overwrite, marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        _check_directory(path, overwrite, marker)
        os.chmod(tmp, 0o777 & ~_umask())
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _check_directory(path: Path, overwrite: bool, marker: str | None) -> None:
    check_output(path, overwrite)
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputExistsError(f"{str(path)!r} exists and is not a directory; not replacing it")
    if marker is not None and any(path.iterdir()) and not (path / marker).exists():
        raise OutputExistsError(
            f"refusing to overwrite {str(path)!r}: it is not empty and has no {marker}, so it "
            "does not look like an output of this command"
        )


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
