"""Checks on where a job writes, made before any work (and before training).

* :func:`check_writable`: the output can be created (its folder, or the nearest existing
  folder above it, accepts a new file), so a read-only ``--out`` is reported at once, not
  after training, and never as a raw ``PermissionError``.
* :func:`check_not_input`: the output is none of the inputs (the data table, the model
  directory) and, for an output folder that ``--overwrite`` replaces as a whole, holds none
  of them. ``--overwrite`` never permits replacing an input.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cnforecast.jobs.errors import JobError

PathLike = str | os.PathLike[str]


class OutputPathError(JobError):
    """An output path cannot be written, or would replace an input."""


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(os.sep)


def check_writable(out: PathLike, what: str = "output") -> None:
    """Refuse ``out`` if it cannot be created or replaced; nothing is left behind.

    The folder that will hold ``out`` (or the nearest existing folder above it, which the
    job will create the rest in) must accept a new file: a temporary file is created and
    removed there, which also catches read-only file systems and access control lists.
    """
    out = Path(out)
    if out.exists() and out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{what} {str(out)!r} is not writable; choose another --out or change its permissions"
        )
    folder = _nearest_existing(out.parent)
    if not folder.is_dir():
        raise OutputPathError(
            f"cannot create {what} {str(out)!r}: {str(folder)!r} is a file, not a folder"
        )
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".cnforecast-write-check.")
    except OSError as exc:
        reason = "it is read-only" if exc.errno == errno.EROFS else exc.strerror or str(exc)
        raise OutputPathError(
            f"cannot write {what} {str(out)!r}: the folder {str(folder)!r} does not accept new "
            f"files ({reason}); choose another --out or change the folder's permissions"
        ) from None
    os.close(fd)
    os.unlink(name)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_not_input(
    out: PathLike,
    inputs: Iterable[PathLike],
    what: str = "output",
    replaces_folder: bool = False,
) -> None:
    """Refuse an output that is one of ``inputs`` (or, as a folder, contains one).

    Parameters
    ----------
    out
        The output file or folder.
    inputs
        The files and folders the job reads.
    what
        What ``out`` is, for the message.
    replaces_folder
        ``out`` is a folder that the job replaces as a whole (a model directory, a backtest
        report): an input inside it would be deleted, so that is refused too.
    """
    out_path = Path(out)
    resolved_out = _resolved(out_path)
    for item in inputs:
        source = Path(item)
        resolved_in = _resolved(source)
        if resolved_in == resolved_out or _same(source, out_path):
            raise OutputPathError(
                f"{what} {str(out_path)!r} is the input {str(source)!r}; the job never "
                "overwrites its input (not even with --overwrite): choose another --out"
            )
        if replaces_folder and resolved_out in resolved_in.parents:
            raise OutputPathError(
                f"{what} {str(out_path)!r} contains the input {str(source)!r}, which replacing "
                "it would delete; choose another --out"
            )


def resolved_inputs(inputs: Iterable[PathLike]) -> frozenset[Path]:
    """The real paths of ``inputs``, for many :func:`is_input` look-ups (a batch job)."""
    return frozenset(_resolved(Path(p)) for p in inputs)


def is_input(out: PathLike, inputs: frozenset[Path]) -> bool:
    """Whether ``out`` is one of the inputs collected by :func:`resolved_inputs`."""
    return _resolved(Path(out)) in inputs
