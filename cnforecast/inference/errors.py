"""The error of the darts-free inference files (kept apart so that reading needs no torch)."""

from __future__ import annotations

from cnforecast.errors import CnforecastError

__all__ = ["NetworkFileError"]


class NetworkFileError(CnforecastError):
    """A network file (torch or ONNX) that cannot be used: missing, corrupted, another format."""
