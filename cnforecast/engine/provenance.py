"""Provenance and safe outputs: versions, git commit, JSON values, SHA-256, atomic writes.

One module for everything that says where a result came from and writes it safely, used by
benchmark records (:mod:`cnforecast.bench.records`), model directories
(:mod:`cnforecast.jobs.manifest`), job outputs (:mod:`cnforecast.jobs.io`) and data sets
(:mod:`cnforecast.datasets.checksums`, :mod:`cnforecast.datasets.download`).

Atomic writes: a file goes first to a temporary file in the same folder, is flushed to disk
and then moved into place with :func:`os.replace`, so a reader (or a process killed half-way)
never sees half a file. A folder is assembled in a temporary sibling and renamed into place.
An existing output is refused with :class:`~cnforecast.errors.OutputExistsError` unless
``overwrite=True``.

This module imports neither torch nor darts, nor the package's ``__init__``: versions are
read with :mod:`importlib.metadata`.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
import math
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cnforecast.errors import OutputExistsError

__all__ = [
    "VERSIONED_PACKAGES",
    "atomic_directory",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
    "git_commit",
    "object_name",
    "package_version",
    "package_versions",
    "sha256_file",
    "to_jsonable",
]

#: Packages whose versions decide the numbers, in the order records list them.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "cnforecast",
    "darts",
    "torch",
    "pytorch-lightning",
    "numpy",
    "pandas",
    "neuralforecast",
)
#: What the version of a package that is not installed reads as, where a string is needed.
UNKNOWN_VERSION = "0.0.0+unknown"

_CHUNK = 1 << 20


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None`` when it is not installed.

    Examples
    --------
    >>> package_version("no-such-distribution-here") is None
    True
    """
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@functools.cache
def package_versions() -> dict[str, str | None]:
    """Python and the versions of :data:`VERSIONED_PACKAGES` (``None``: not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        out[name] = package_version(name)
    return out


@functools.cache
def git_commit() -> tuple[str, bool | None]:
    """The commit of the source tree cnforecast runs from and whether it has changes.

    Read once per process, at the first call: the code a process runs is the code it
    imported, so a commit made while a long benchmark runs must not relabel its records
    (:func:`cnforecast.bench.runner.run_benchmark` calls this before its first run).
    Returns ``("unknown", None)`` outside a git checkout (e.g. an installed wheel).
    """
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit or "unknown", dirty


def object_name(value: Any) -> str:
    """A class or function as its dotted name; any other object as ``<module.Type>``.

    Examples
    --------
    >>> object_name(Path), object_name(object())
    ('pathlib.Path', '<builtins.object>')
    """
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def to_jsonable(value: Any, describe: Callable[[Any], str] = object_name) -> Any:
    """A JSON-safe copy: numpy scalars become numbers, non-finite floats ``None``.

    Mappings, sequences and arrays are converted item by item; enums by their value; paths
    become strings; anything else becomes ``describe(value)`` (by default
    :func:`object_name`: classes as dotted names).

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"cls": Path, "x": (1, float("nan")), "n": np.int64(3)})
    {'cls': 'pathlib.Path', 'x': [1, None], 'n': 3}
    """
    import numpy as np

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, describe)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, describe) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [to_jsonable(v, describe) for v in value]
    if isinstance(value, Path):
        return str(value)
    return describe(value)


def sha256_file(path: str | os.PathLike[str], chunk_size: int = _CHUNK) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(path: str | os.PathLike[str], overwrite: bool, what: str = "output") -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(
            f"{what} {str(path)!r} already exists; pass --overwrite (overwrite=True) to replace it"
        )


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str],
    overwrite: bool = False,
    *,
    suffix: str = ".tmp",
    mode: int | None = None,
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    The temporary file (``.<name>.<random><suffix>``) is removed if the block raises,
    interruptions included: it is created inside the ``try`` whose ``finally`` removes it,
    so a signal that arrives at any point leaves nothing behind. The caller writes (and
    closes) it inside the block. ``mode``: the permissions of the result (default:
    ``0o666`` less the umask, as :func:`open`).
    """
    path = Path(path)
    check_output(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(path, suffix)
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        yield tmp
        check_output(path, overwrite)
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _temporary_name(path: Path, suffix: str) -> Path:
    """A new hidden name next to ``path``, for a file or folder created by the caller."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{suffix}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (flushed to disk); return ``path``."""
    with atomic_file(path, overwrite) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite)


@contextlib.contextmanager
def atomic_directory(
    path: str | os.PathLike[str], overwrite: bool = False, marker: str | None = None
) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; rename it to ``path`` if the block succeeds.

    Parameters
    ----------
    path
        The folder to create.
    overwrite
        Replace an existing ``path``. The old folder is moved aside, the new one renamed
        into place, then the old one deleted.
    marker
        A file name that identifies outputs of this kind (e.g. ``manifest.json``). An
        existing, non-empty folder without it is never overwritten, so a mistyped ``--out``
        cannot delete unrelated files.
    """
    path = Path(path)
    _check_directory(path, overwrite, marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(path, ".tmp")
    try:
        tmp.mkdir(mode=0o700)  # inside the try: an interruption never leaves it behind
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
