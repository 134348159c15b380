"""Exceptions of the data-set layer.

Every exception derives from :class:`DatasetError`, itself an ordinary :class:`Exception`
(darts' ``DatasetLoadingException`` derives from ``BaseException``, which ``except
Exception`` does not catch). Messages name the file and the problem, so they can be shown to
a user as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class DatasetError(Exception):
    """Base class of every error raised by :mod:`cnforecast.datasets`."""


class UnknownDatasetError(DatasetError, KeyError):
    """A data-set name that is not in :data:`~cnforecast.datasets.DATASETS`.

    Also a :class:`KeyError`, as for a missing dictionary key; the message lists the known
    names.
    """

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown data set {name!r}; known data sets: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class DatasetNotFoundError(DatasetError):
    """A data-set file that is in none of the places searched and could not be downloaded."""

    def __init__(self, message: str, *, name: str, searched: Iterable[Path]) -> None:
        self.name = name
        self.searched = tuple(searched)
        super().__init__(message)


class ChecksumMismatchError(DatasetError):
    """A file whose sha256 differs from the one its registry record holds."""

    def __init__(self, path: Path | str, expected: str, actual: str, *, hint: str = "") -> None:
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        message = f"checksum mismatch for {self.path}: expected sha256 {expected}, got {actual}"
        super().__init__(f"{message}; {hint}" if hint else message)


class MalformedDatasetError(DatasetError):
    """A file that cannot be read as the data set it should hold (bad CSV, columns, values)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DownloadError(DatasetError):
    """A download that failed; no partial file is left behind."""

    def __init__(self, url: str, destination: Path | str, reason: str) -> None:
        self.url = url
        self.destination = Path(destination)
        self.reason = reason
        super().__init__(
            f"downloading {url} to {self.destination} failed: {reason}; nothing was written"
        )


class SplitError(DatasetError, ValueError):
    """A split that cannot be made: lookback too long, or too few rows for the rule."""
