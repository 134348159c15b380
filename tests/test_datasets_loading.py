"""Loading benchmark files: lookup order, checksums, downloads, quirks and bad input.

The real files are used when ``CNFORECAST_DATA`` names the folder holding them; everything
else runs on small synthetic files in the exact format of each data set, in temporary
folders, with the environment pointing away from the real cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from cnforecast.datasets import (
    DATASETS,
    ChecksumMismatchError,
    DatasetNotFoundError,
    DownloadError,
    MalformedDatasetError,
    UnknownDatasetError,
    dataset_path,
    get_dataset_info,
    load_dataframe,
    load_dataset,
    load_timestamps,
    paths,
    registry,
    write_synthetic_dataset,
)
from cnforecast.datasets.download import download_file
from cnforecast.datasets.synthetic import WEATHER_SENTINEL, weather_quirks

REAL = {
    # name: (rows, series, first timestamp, last timestamp)
    "ETTh1": (17420, 7, "2016-07-01 00:00", "2018-06-26 19:00"),
    "ETTh2": (17420, 7, "2016-07-01 00:00", "2018-06-26 19:00"),
    "ETTm1": (69680, 7, "2016-07-01 00:00", "2018-06-26 19:45"),
    "Weather": (52696, 21, "2020-01-01 00:10", "2021-01-01 00:00"),
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty CNFORECAST_DATA and cache folders, no repository folder, downloads allowed."""
    data = tmp_path / "data"
    cache = tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv(paths.ENV_DATA, str(data))
    monkeypatch.setenv(paths.ENV_CACHE, str(cache))
    monkeypatch.delenv(paths.ENV_OFFLINE, raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "no-repo")
    return dataclasses.make_dataclass("Env", ["data", "cache", "root"])(data, cache, tmp_path)


def patch_record(monkeypatch, name: str, **changes) -> None:
    """Replace one registry record for the duration of a test."""
    records = dict(registry.DATASETS)
    records[name] = dataclasses.replace(records[name], **changes)
    monkeypatch.setattr(registry, "DATASETS", MappingProxyType(records))


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def real_series(benchmark_data_dir):
    """The four files on hand, loaded (and checksum-verified) once for the module."""
    return {name: load_dataset(name, path=benchmark_data_dir) for name in REAL}


@pytest.mark.data
@pytest.mark.parametrize("name", list(REAL))
def test_real_files_load_verified(real_series, benchmark_data_dir, name):
    rows, n_series, first, last = REAL[name]
    series = real_series[name]
    assert series.shape == (rows, n_series, 1)
    assert series.dtype == np.float32
    assert list(series.components) == list(get_dataset_info(name).columns)
    if name == "Weather":
        times = load_timestamps(name, path=benchmark_data_dir)
        assert isinstance(series.time_index, pd.RangeIndex)
        assert series.time_index[0] == 0 and series.time_index[-1] == rows - 1
    else:
        times = series.time_index
        assert series.freq == pd.tseries.frequencies.to_offset(get_dataset_info(name).frequency)
    assert len(times) == rows
    assert times[0] == pd.Timestamp(first)
    assert times[-1] == pd.Timestamp(last)


@pytest.mark.data
def test_real_weather_keeps_every_row(real_series, benchmark_data_dir):
    frame = load_dataframe("Weather", path=benchmark_data_dir)
    times = pd.DatetimeIndex(frame["date"])
    steps = np.diff(times.to_numpy())
    assert (steps == np.timedelta64(0, "m")).sum() == 1
    assert np.flatnonzero(steps == np.timedelta64(0, "m")).tolist() == [19043]
    assert np.flatnonzero(steps == np.timedelta64(100, "m")).tolist() == [21513]
    values = real_series["Weather"].values()
    assert (values == -9999).any(axis=1).sum() == 80
    np.testing.assert_array_equal(values[19043], values[19044])
    np.testing.assert_array_equal(values, frame.iloc[:, 1:].to_numpy(np.float32))


# ---------------------------------------------------------------- synthetic, every format


@pytest.mark.parametrize("name", list(DATASETS))
def test_synthetic_file_of_every_data_set_loads(env, name):
    info = get_dataset_info(name)
    n_rows = 40
    file = write_synthetic_dataset(name, env.data, n_rows, seed=3)
    assert file == env.data / info.file_name
    series = load_dataset(name.lower(), verify=False)
    assert series.shape == (n_rows, info.n_series, 1)
    assert series.dtype == np.float32
    assert list(series.components) == list(info.columns)
    raw = pd.read_csv(file, encoding="utf-8")
    np.testing.assert_allclose(series.values(), raw.iloc[:, 1:].to_numpy(), rtol=1e-6)
    frame = load_dataframe(name, verify=False)
    assert list(frame.columns) == ["date", *info.columns]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert (frame.dtypes.iloc[1:] == np.float64).all()
    if info.time_index == "datetime":
        expected = pd.date_range(frame["date"].iloc[0], periods=n_rows, freq=info.frequency)
        assert series.time_index.equals(expected)
        assert series.freq == expected.freq
    else:
        assert series.time_index.equals(pd.RangeIndex(n_rows))


def test_exchange_dates_without_padding_are_read(env):
    file = write_synthetic_dataset("Exchange", env.data, 5)
    assert file.read_text().splitlines()[1].startswith("1990/1/1 0:00,")
    times = load_timestamps("exchange", verify=False)
    assert list(times) == list(pd.date_range("1990-01-01", periods=5, freq="D"))


def test_synthetic_weather_has_the_real_quirks_and_loses_no_row(env):
    n_rows = 60
    file = write_synthetic_dataset("Weather", env.data, n_rows)
    raw = file.read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("utf-8")
    assert raw.count(b"\r\n") == n_rows + 1
    assert header.count("\ufffd") == 5
    quirks = weather_quirks(n_rows)

    series = load_dataset("Weather", verify=False)
    assert len(series) == n_rows
    assert isinstance(series.time_index, pd.RangeIndex)
    assert "SWDR (W/m²)" in series.components
    assert "PAR (µmol/m²/s)" in series.components
    assert not any("\ufffd" in c for c in series.components)
    values = series.values()
    assert (values[list(quirks.sentinel_rows), -1] == WEATHER_SENTINEL).all()
    np.testing.assert_array_equal(values[quirks.duplicate_row], values[quirks.duplicate_row - 1])

    times = load_timestamps("Weather", verify=False)
    assert len(times) == n_rows
    steps = pd.Series(np.diff(times.to_numpy()))
    assert steps.value_counts().to_dict() == {
        pd.Timedelta(minutes=10): n_rows - 3,
        pd.Timedelta(0): 1,
        pd.Timedelta(minutes=100): 1,
    }
    assert times[quirks.duplicate_row] == times[quirks.duplicate_row - 1]
    assert times[quirks.gap_row] - times[quirks.gap_row - 1] == pd.Timedelta(minutes=100)


def test_weather_with_an_intact_header_reads_the_same(env):
    file = write_synthetic_dataset("Weather", env.data, 20)
    damaged = file.read_bytes()
    file.write_bytes(damaged.replace("W/m\ufffd".encode(), "W/m²".encode()))
    assert "SWDR (W/m²)" in load_dataset("Weather", verify=False).components


# ------------------------------------------------------------------------- where to look


def test_lookup_order(env, monkeypatch):
    repo = env.root / "repo"
    (repo / "datasets").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    monkeypatch.setattr(paths, "REPO_ROOT", repo)
    explicit = env.root / "explicit"
    folders = [explicit, env.data, repo / "datasets", env.cache]
    for seed, folder in enumerate(folders):
        write_synthetic_dataset("ETTh1", folder, 5, seed=seed)

    assert dataset_path("ETTh1", explicit, verify=False) == explicit / "ETTh1.csv"
    assert dataset_path("ETTh1", explicit / "ETTh1.csv", verify=False) == explicit / "ETTh1.csv"
    for folder in folders[1:]:
        assert dataset_path("etth1", verify=False) == folder / "ETTh1.csv"
        (folder / "ETTh1.csv").unlink()


def test_explicit_file_may_have_any_name(env):
    file = write_synthetic_dataset("ETTh2", env.root / "x", 6)
    copy = env.root / "my copy.csv"
    copy.write_bytes(file.read_bytes())
    assert load_dataset("ETTh2", path=copy, verify=False).n_timesteps == 6


def test_repository_folder_needs_a_source_checkout(env, monkeypatch):
    root = env.root / "site-packages"
    (root / "datasets").mkdir(parents=True)
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    assert paths.repo_data_dir() is None
    (root / "pyproject.toml").write_text("")
    assert paths.repo_data_dir() == root / "datasets"
    monkeypatch.delenv(paths.ENV_CACHE)
    assert paths.download_dir() == root / "datasets"


def test_missing_and_offline_lists_every_place(env, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("no request may be made offline")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setenv(paths.ENV_OFFLINE, "1")
    with pytest.raises(DatasetNotFoundError) as caught:
        load_dataset("ETTh1")
    message = str(caught.value)
    assert "CNFORECAST_OFFLINE" in message
    assert str(env.data / "ETTh1.csv") in message
    assert str(env.cache / "ETTh1.csv") in message
    assert get_dataset_info("ETTh1").url in message
    assert caught.value.searched == (env.data / "ETTh1.csv", env.cache / "ETTh1.csv")

    monkeypatch.delenv(paths.ENV_OFFLINE)
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        dataset_path("ETTh1", download=False)


def test_missing_bundle_file_says_how_to_get_it(env):
    with pytest.raises(DatasetNotFoundError) as caught:
        dataset_path("Traffic")
    message = str(caught.value)
    assert "no direct download address" in message
    assert "all_six_datasets" in message and "traffic/traffic.csv" in message
    assert str(env.data / "traffic.csv") in message


def test_missing_explicit_path_is_not_searched_further(env):
    write_synthetic_dataset("ETTh1", env.data, 5)
    elsewhere = env.root / "elsewhere"
    with pytest.raises(DatasetNotFoundError) as caught:
        dataset_path("ETTh1", elsewhere)
    assert caught.value.searched == (elsewhere / "ETTh1.csv",)
    with pytest.raises(DatasetNotFoundError) as caught:
        dataset_path("ETTh1", elsewhere / "copy.csv")
    assert caught.value.searched == (elsewhere / "copy.csv",)


def test_unknown_name(env):
    with pytest.raises(UnknownDatasetError, match="known data sets: ETTh1, ETTh2"):
        load_dataset("ettx9")


# ------------------------------------------------------------------------------ checksums


def test_checksum_mismatch_names_file_and_both_hashes(env, monkeypatch):
    file = write_synthetic_dataset("ETTh1", env.data, 10)
    actual = hashlib.sha256(file.read_bytes()).hexdigest()
    expected = get_dataset_info("ETTh1").sha256
    with pytest.raises(ChecksumMismatchError) as caught:
        load_dataset("ETTh1")
    message = str(caught.value)
    assert str(file) in message and expected in message and actual in message
    assert (caught.value.expected, caught.value.actual) == (expected, actual)

    patch_record(monkeypatch, "ETTh1", sha256=actual, n_rows=10)
    assert load_dataset("ETTh1").n_timesteps == 10
    with file.open("ab") as handle:  # a changed file is hashed again
        handle.write(b"2016-07-01 10:00:00,1,2,3,4,5,6,7\n")
    with pytest.raises(ChecksumMismatchError):
        dataset_path("ETTh1")


def test_unknown_checksum_is_reported_not_invented(env, caplog):
    write_synthetic_dataset("Electricity", env.data, 12)
    with caplog.at_level("WARNING", logger="cnforecast.datasets"):
        dataset_path("Electricity")
    assert "could not be verified" in caplog.text
    assert "electricity.csv" in caplog.text


def test_row_count_is_checked_when_no_checksum_is_known(env):
    file = write_synthetic_dataset("Exchange", env.data, 30)
    with pytest.raises(MalformedDatasetError, match="30 data rows where the published"):
        load_dataset("Exchange")
    assert load_dataset("Exchange", verify=False).n_timesteps == 30
    with pytest.raises(MalformedDatasetError) as caught:
        load_dataframe("Exchange")
    assert str(file) in str(caught.value)


# ---------------------------------------------------------------------------- bad input


def _set_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


def _drop_field(line: str, index: int) -> str:
    fields = line.split(",")
    del fields[index]
    return ",".join(fields)


# Each edit takes the lines of a 20-row synthetic ETTh1 file (header first, then an empty
# string after the final newline) and returns the damaged lines.
MALFORMED = {
    "truncated": (lambda lines: [*lines[:-2], lines[-2][:-12]], "file looks truncated"),
    "non-numeric": (
        lambda lines: [*lines[:5], _set_field(lines[5], 3, "abc"), *lines[6:]],
        "'MUFL' holds a value that is not a number, 'abc', at data row 4",
    ),
    "no-time-column": (
        lambda lines: [lines[0].replace("date", "time"), *lines[1:]],
        "no time column 'date'",
    ),
    "missing-column": (
        lambda lines: [_drop_field(line, 6) if line else line for line in lines],
        "missing ['LULL']",
    ),
    "renamed-column": (
        lambda lines: [lines[0].replace("HUFL", "HUFL2"), *lines[1:]],
        "unexpected ['HUFL2']",
    ),
    "extra-field": (
        lambda lines: [*lines[:4], lines[4] + ",9.9", *lines[5:]],
        "not a well-formed CSV",
    ),
    "irregular-time": (lambda lines: [*lines[:3], *lines[4:]], "not a regular h grid"),
    "bad-timestamp": (
        lambda lines: [*lines[:3], _set_field(lines[3], 0, "2016-13-45 99:00:00"), *lines[4:]],
        "unreadable timestamp '2016-13-45 99:00:00'",
    ),
    "header-only": (lambda lines: [lines[0]], "no data rows"),
    "empty": (lambda lines: [], "the file is empty"),
}


@pytest.mark.parametrize(("edit", "problem"), MALFORMED.values(), ids=MALFORMED)
def test_malformed_files_give_clear_errors(env, edit, problem):
    file = write_synthetic_dataset("ETTh1", env.data, 20)
    file.write_text("\n".join(edit(file.read_text().split("\n"))))
    with pytest.raises(MalformedDatasetError) as caught:
        load_dataset("ETTh1", verify=False)
    assert str(file) in str(caught.value)
    assert problem in str(caught.value)


def test_a_file_of_another_data_set_is_rejected(env):
    source = write_synthetic_dataset("Exchange", env.root / "x", 10)
    (env.data / "ETTh1.csv").write_bytes(source.read_bytes())
    with pytest.raises(MalformedDatasetError, match="wrong columns for data set ETTh1"):
        load_dataset("ETTh1", verify=False)


# ------------------------------------------------------------------------------ downloads


class _Server:
    """A local HTTP server with canned answers: path -> (status, body, announced length)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, int | None]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body, length = server.routes.get(self.path, (404, b"not found", None))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with _Server() as running:
        yield running


@pytest.fixture
def etth1_bytes(tmp_path) -> bytes:
    return write_synthetic_dataset("ETTh1", tmp_path / "source", 24).read_bytes()


def test_download_lands_verified_in_the_cache(env, server, monkeypatch, etth1_bytes):
    digest = hashlib.sha256(etth1_bytes).hexdigest()
    server.routes["/ETTh1.csv"] = (200, etth1_bytes, None)
    patch_record(monkeypatch, "ETTh1", url=f"{server.url}/ETTh1.csv", sha256=digest, n_rows=24)

    path = dataset_path("etth1")
    assert path == env.cache / "ETTh1.csv"
    assert path.read_bytes() == etth1_bytes
    assert files_in(env.cache) == ["ETTh1.csv"]
    assert load_dataset("ETTh1").n_timesteps == 24
    assert server.requests == ["/ETTh1.csv"]  # found in the cache the second time


def test_download_cut_short_leaves_nothing(env, server, monkeypatch, etth1_bytes):
    half = etth1_bytes[: len(etth1_bytes) // 2]
    server.routes["/ETTh1.csv"] = (200, half, len(etth1_bytes))
    url = f"{server.url}/ETTh1.csv"
    patch_record(monkeypatch, "ETTh1", url=url, sha256=hashlib.sha256(etth1_bytes).hexdigest())

    with pytest.raises(DownloadError) as caught:
        load_dataset("ETTh1")
    message = str(caught.value)
    assert url in message
    assert f"closed after {len(half)} of {len(etth1_bytes)} bytes" in message
    assert "nothing was written" in message
    assert files_in(env.cache) == []


def test_download_with_wrong_checksum_leaves_nothing(env, server, monkeypatch, etth1_bytes):
    server.routes["/ETTh1.csv"] = (200, etth1_bytes, None)
    patch_record(monkeypatch, "ETTh1", url=f"{server.url}/ETTh1.csv")
    with pytest.raises(ChecksumMismatchError) as caught:
        dataset_path("ETTh1")
    assert get_dataset_info("ETTh1").sha256 in str(caught.value)
    assert hashlib.sha256(etth1_bytes).hexdigest() in str(caught.value)
    assert files_in(env.cache) == []


def test_http_error_is_a_download_error(env, server, monkeypatch):
    patch_record(monkeypatch, "ETTh1", url=f"{server.url}/missing.csv")
    with pytest.raises(DownloadError, match="HTTP Error 404"):
        dataset_path("ETTh1")
    assert files_in(env.cache) == []


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    class Response:
        def __init__(self) -> None:
            self.headers = {"Content-Length": "1000"}
            self.reads = 0

        def read(self, size: int) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise KeyboardInterrupt
            return b"x" * 100

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: Response())
    with pytest.raises(KeyboardInterrupt):
        download_file("http://example.invalid/f.csv", tmp_path / "f.csv")
    assert files_in(tmp_path) == []
