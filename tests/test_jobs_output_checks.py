"""Output-path checks and roll-out limits (jobs/output_paths.py, jobs/rollout.py)."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from cnforecast.jobs.errors import ForecastError, JobError
from cnforecast.jobs.output_paths import (
    OutputPathError,
    check_not_input,
    check_writable,
    is_input,
    resolved_inputs,
)
from cnforecast.jobs.rollout import MAX_ROLLOUTS, check_finite, check_horizon, n_rollouts


def test_writable_folder_passes_and_leaves_nothing(tmp_path):
    check_writable(tmp_path / "new" / "deeper" / "out.csv")
    check_writable(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_location_is_an_error_not_a_traceback():
    # /sys accepts no new files, even for root
    with pytest.raises(OutputPathError, match="does not accept new files") as info:
        check_writable("/sys/cnforecast-test/out.csv", "forecast table")
    assert isinstance(info.value, JobError)
    assert "choose another --out" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="Permission denied"):
            check_writable(folder / "out.csv")
    finally:
        folder.chmod(0o700)


def test_parent_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_writable(tmp_path / "f" / "out.csv")


def test_output_equal_to_input_is_refused_even_through_a_link(tmp_path):
    data = tmp_path / "h.csv"
    data.write_text("time,y\n")
    with pytest.raises(OutputPathError, match="never overwrites its input"):
        check_not_input(data, [data], "forecast table")
    (tmp_path / "link.csv").symlink_to(data)
    with pytest.raises(OutputPathError, match="never overwrites its input"):
        check_not_input(tmp_path / "link.csv", [data])
    with pytest.raises(OutputPathError):
        check_not_input(tmp_path / "sub" / ".." / "h.csv", [data])
    check_not_input(tmp_path / "out.csv", [data])


def test_folder_output_that_holds_an_input(tmp_path):
    data = tmp_path / "dir" / "h.csv"
    data.parent.mkdir()
    data.write_text("time,y\n")
    with pytest.raises(OutputPathError, match="which replacing it would delete"):
        check_not_input(tmp_path / "dir", [data], "model directory", replaces_folder=True)
    check_not_input(tmp_path / "dir2", [data], "model directory", replaces_folder=True)


def test_resolved_inputs(tmp_path):
    inputs = resolved_inputs([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert is_input(tmp_path / "." / "a.csv", inputs)
    assert not is_input(tmp_path / "c.csv", inputs)


def test_rollouts_within_one_chunk_are_silent(caplog):
    with caplog.at_level(logging.WARNING):
        check_horizon(6, 6)
    assert not caplog.records


def test_rollouts_beyond_the_horizon_warn(caplog):
    with caplog.at_level(logging.WARNING):
        check_horizon(13, 6)
    assert "chains 3 roll-outs" in caplog.text


def test_too_many_rollouts_are_refused_before_predicting():
    with pytest.raises(ForecastError) as info:
        check_horizon(10000, 6, where="the model in 'M'")
    message = str(info.value)
    assert "n=10000 needs 1667 roll-outs" in message
    assert f"n <= {MAX_ROLLOUTS * 6}" in message
    assert "--max-rollouts" in message
    check_horizon(10000, 6, max_rollouts=None)  # no limit: allowed
    with pytest.raises(ForecastError, match="at least 1"):
        check_horizon(0, 6)


def test_non_finite_forecast_is_refused_with_series_step_and_rollout():
    good = np.ones((12, 1, 1))
    bad = np.ones((12, 1, 1))
    bad[8:] = np.inf
    check_finite([good], ["a"], 6)
    with pytest.raises(ForecastError) as info:
        check_finite([good, bad], ["a", "b"], 6, source="h.csv")
    message = str(info.value)
    assert "h.csv, series 'b'" in message
    assert "from step 9 on, in roll-out 2" in message
    assert "at most 6" in message
    assert n_rollouts(12, 6) == 2
