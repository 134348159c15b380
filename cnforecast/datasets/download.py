"""Atomic downloads: a file appears at its destination whole and verified, or not at all.

The bytes go to a temporary file in the destination folder
(:func:`cnforecast.engine.provenance.atomic_file`); once every byte announced by
``Content-Length`` has arrived and the sha256 matches, it is moved into place in one step.
On any failure, interruption included, the temporary file is removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from cnforecast.datasets.checksums import remember_sha256
from cnforecast.datasets.errors import ChecksumMismatchError, DatasetError, DownloadError
from cnforecast.engine.provenance import atomic_file

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16
TEMP_SUFFIX = ".part"
"""Suffix of the temporary files of downloads in progress."""


def download_file(
    url: str,
    destination: Path | str,
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    progress: bool | None = None,
) -> Path:
    """Download ``url`` to ``destination`` atomically, checking size and sha256.

    Parameters
    ----------
    url
        Address to fetch (anything :func:`urllib.request.urlopen` opens).
    destination
        Final path of the file; its folder is created when needed.
    sha256
        Expected checksum; ``None`` skips the check (a warning is logged).
    timeout
        Seconds to wait for the connection and for each read.
    progress
        Show a tqdm progress bar: ``True``, ``False``, or ``None`` for "only on a terminal".

    Returns
    -------
    Path
        ``destination``.

    Raises
    ------
    DownloadError
        When the connection fails or ends before every announced byte has arrived.
    ChecksumMismatchError
        When the received bytes do not have the expected sha256.
    """
    destination = Path(destination)
    logger.info("downloading %s to %s", url, destination)
    try:
        with atomic_file(destination, overwrite=True, suffix=TEMP_SUFFIX, mode=0o644) as temp:
            digest, received = _fetch(url, destination, temp, sha256, timeout, progress)
    except BaseException as exc:
        if isinstance(exc, DatasetError) or not isinstance(exc, Exception):
            raise
        raise DownloadError(url, destination, f"{type(exc).__name__}: {exc}") from exc
    remember_sha256(destination, digest)
    logger.info("downloaded %s (%d bytes, sha256 %s)", destination, received, digest)
    return destination


def _fetch(
    url: str,
    destination: Path,
    temp: Path,
    sha256: str | None,
    timeout: float,
    progress: bool | None,
) -> tuple[str, int]:
    """Stream ``url`` into ``temp``, hashing as it goes; check size and sha256."""
    hasher = hashlib.sha256()
    received = 0
    with (
        open(temp, "wb") as out,
        urllib.request.urlopen(url, timeout=timeout) as response,
    ):
        length = response.headers.get("Content-Length")
        expected_size = int(length) if length and length.isdigit() else None
        with tqdm(
            total=expected_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=destination.name,
            disable=None if progress is None else not progress,
            leave=False,
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    if expected_size is not None and received != expected_size:
        raise DownloadError(
            url,
            destination,
            f"the connection closed after {received} of {expected_size} bytes",
        )
    digest = hasher.hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise ChecksumMismatchError(
            url, sha256.lower(), digest, hint=f"the download was discarded ({destination})"
        )
    if sha256 is None:
        logger.warning("the checksum of %s could not be verified: none is known", url)
    return digest, received
