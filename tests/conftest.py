"""Shared test settings: quiet, CPU-only, small."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from cnforecast.datasets import paths

# A relative CNFORECAST_DATA (the README's command gives ../shared/datasets) is made absolute
# now, so that notebooks and subprocesses started from other folders find the same files.
paths.data_dir()

torch.set_num_threads(1)
logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
logging.getLogger("lightning_fabric").setLevel(logging.ERROR)

#: Trainer settings every test model uses: CPU, no progress bar, no logger, no checkpoints.
QUIET_TRAINER = {
    "accelerator": "cpu",
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "logger": False,
    "enable_checkpointing": False,
}


@pytest.fixture
def quiet_trainer() -> dict:
    """A fresh copy of :data:`QUIET_TRAINER` for ``pl_trainer_kwargs``."""
    return dict(QUIET_TRAINER)


@pytest.fixture(scope="session")
def benchmark_data_dir() -> Path:
    """The folder named by ``CNFORECAST_DATA``; tests needing real files skip without it."""
    path = paths.data_dir()
    if path is None:
        pytest.skip("CNFORECAST_DATA is not set: the benchmark files are not available")
    if not path.is_dir():
        pytest.skip(f"CNFORECAST_DATA={path} is not a directory")
    return path
