"""Where data-set files are looked for, where downloads go, and the offline switch.

Lookup order for a file (the first that exists wins):

1. an explicit ``path`` argument: the file itself, or a folder holding the file;
2. the folder named by the ``CNFORECAST_DATA`` environment variable (a relative value is
   resolved against the current directory when first read, and the variable is set to
   the absolute path, so that every later read, subprocesses and notebook kernels
   included, means the same folder: :func:`data_dir`);
3. the repository's top-level ``datasets/`` folder, when cnforecast runs from a source
   checkout (the folder next to the ``cnforecast`` package, beside ``pyproject.toml``);
4. the user cache: ``CNFORECAST_CACHE``, else ``$XDG_CACHE_HOME/cnforecast``, else
   ``~/.cache/cnforecast``.

Downloads go to ``CNFORECAST_CACHE`` when it is set, else to the repository's ``datasets/``
folder when there is one, else to the user cache. Setting ``CNFORECAST_OFFLINE`` to ``1``
(or ``true``, ``yes``, ``on``) forbids downloading.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ENV_DATA = "CNFORECAST_DATA"
"""Environment variable naming a folder that holds benchmark files."""

ENV_CACHE = "CNFORECAST_CACHE"
"""Environment variable naming the download cache folder."""

ENV_OFFLINE = "CNFORECAST_OFFLINE"
"""Environment variable that forbids downloads when set to 1 / true / yes / on."""

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The folder above the ``cnforecast`` package: the repository root in a source checkout."""


@dataclass(frozen=True)
class Location:
    """One place a file is looked for, with why it is looked at."""

    path: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.path} ({self.origin})"


def data_dir() -> Path | None:
    """The folder named by ``CNFORECAST_DATA``, as an absolute path (``None``: not set).

    A relative value is resolved against the current directory the first time it is read,
    and ``CNFORECAST_DATA`` is set to the result: the folder stays the same when the
    process, or a process it starts (a notebook kernel, a worker), changes directory.
    """
    value = os.environ.get(ENV_DATA)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = absolute(path)
        os.environ[ENV_DATA] = str(path)
        logger.debug("%s=%s resolved to %s", ENV_DATA, value, path)
    return path


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` (a ``--data`` or ``path`` argument) against the current directory, once."""
    return Path(os.path.abspath(Path(path).expanduser()))


def repo_data_dir() -> Path | None:
    """The repository's ``datasets/`` folder, or ``None`` outside a source checkout.

    The ``pyproject.toml`` check keeps an installed (non-editable) cnforecast from taking
    ``site-packages/datasets`` (another package) for its data folder.
    """
    folder = REPO_ROOT / "datasets"
    if folder.is_dir() and (REPO_ROOT / "pyproject.toml").is_file():
        return folder
    return None


def user_cache_dir() -> Path:
    """``CNFORECAST_CACHE``, else ``$XDG_CACHE_HOME/cnforecast``, else ``~/.cache/cnforecast``."""
    value = os.environ.get(ENV_CACHE)
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "cnforecast"


def download_dir() -> Path:
    """Folder that downloads go to (see the module documentation)."""
    if os.environ.get(ENV_CACHE):
        return user_cache_dir()
    return repo_data_dir() or user_cache_dir()


def is_offline() -> bool:
    """Whether ``CNFORECAST_OFFLINE`` forbids downloads."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def search_locations(file_name: str, path: str | os.PathLike[str] | None = None) -> list[Location]:
    """Every place ``file_name`` is looked for, in order, without duplicates.

    With an explicit ``path``, only that place is searched: ``path / file_name`` when
    ``path`` is a folder (or has no suffix), else the path itself, whatever its name.
    """
    if path is not None:
        explicit = Path(path).expanduser()
        folder = explicit.is_dir() or not (explicit.is_file() or explicit.suffix)
        target = explicit / file_name if folder else explicit
        return [Location(target, "path argument")]
    candidates: list[Location] = []
    data = data_dir()
    if data is not None:
        candidates.append(Location(data / file_name, ENV_DATA))
    repo = repo_data_dir()
    if repo is not None:
        candidates.append(Location(repo / file_name, "repository datasets/ folder"))
    candidates.append(Location(user_cache_dir() / file_name, "user cache"))
    unique: list[Location] = []
    seen: set[Path] = set()
    for location in candidates:
        key = location.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(location)
    return unique
