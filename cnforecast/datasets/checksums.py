"""sha256 checksums of data-set files, computed once per file version.

The hashing is :func:`cnforecast.engine.provenance.sha256_file`; this module remembers digests.

A file's digest is remembered for its resolved path, size and modification time, so loading
the same large file again does not hash it again; any change to the file hashes it anew.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cnforecast.datasets.errors import ChecksumMismatchError
from cnforecast.engine.provenance import sha256_file

logger = logging.getLogger(__name__)

_FileKey = tuple[str, int, int]
_DIGESTS: dict[_FileKey, str] = {}
_WARNED_UNKNOWN: set[_FileKey] = set()


def _key(path: Path) -> _FileKey:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of a file, remembered for its path, size and modification time."""
    path = Path(path)
    key = _key(path)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _DIGESTS[key] = sha256_file(path)
    return digest


def remember_sha256(path: Path | str, digest: str) -> None:
    """Record a digest computed elsewhere (while downloading), to skip hashing again."""
    _DIGESTS[_key(Path(path))] = digest


def verify_sha256(path: Path | str, expected: str | None, *, label: str) -> str | None:
    """Check a file against its expected sha256.

    Parameters
    ----------
    path
        The file.
    expected
        The registry's checksum, or ``None`` when it is not known: then a warning is logged
        (once per file version) and nothing is checked.
    label
        Name of the data set, for the messages.

    Returns
    -------
    str or None
        The verified digest, or ``None`` when it could not be verified.

    Raises
    ------
    ChecksumMismatchError
        When the digest differs; the message names the file and both digests.
    """
    path = Path(path)
    if expected is None:
        key = _key(path)
        if key not in _WARNED_UNKNOWN:
            _WARNED_UNKNOWN.add(key)
            logger.warning(
                "the checksum of %s (data set %s) could not be verified: no sha256 is known "
                "for it; its shape is still checked when it is loaded",
                path,
                label,
            )
        return None
    actual = file_sha256(path)
    if actual != expected.lower():
        raise ChecksumMismatchError(
            path,
            expected.lower(),
            actual,
            hint=(
                f"the file is not the published {label} file (corrupted, truncated or another "
                "version); replace it, or pass verify=False to read it anyway"
            ),
        )
    logger.debug("verified sha256 of %s", path)
    return actual
