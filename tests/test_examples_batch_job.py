"""The batch-job example's configuration and sample data fit together (fast, no training).

``examples/batch_job/run.sh`` itself trains a model, so it is run by hand, not here; the
batch command it uses is tested end to end in ``test_cli_batch.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cnforecast.jobs.config import FitConfig
from cnforecast.jobs.tabular import load_series

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "batch_job"


def test_config_and_sample_data(tmp_path):
    config = FitConfig.from_yaml(EXAMPLE / "config.yaml")
    subprocess.run(
        [
            sys.executable,
            str(EXAMPLE / "make_sample_data.py"),
            "--out",
            str(tmp_path),
            "--files",
            "2",
            "--train-stores",
            "2",
            "--corrupt",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    train = load_series(
        tmp_path / "train.csv",
        config.columns(),
        fill=config.fill,
        min_length=config.min_series_length,
    )
    assert len(train) == 2 and train.freq == "h"
    shop = load_series(tmp_path / "inputs" / "shop_000.csv", config.columns())
    horizon = len(shop.future_covariates[0]) - len(shop.targets[0])
    assert horizon == config.output_chunk_length
    assert sorted(p.name for p in (tmp_path / "inputs").iterdir()) == [
        "shop_000.csv",
        "shop_001.csv",
        "shop_corrupt.csv",
    ]
