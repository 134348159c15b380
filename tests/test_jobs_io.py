"""Atomic, overwrite-safe outputs."""

from __future__ import annotations

import pandas as pd
import pytest

from cnforecast.jobs.errors import OutputExistsError
from cnforecast.jobs.io import atomic_directory, atomic_write_text, write_table


def test_existing_file_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "f.txt"
    atomic_write_text(out, "first")
    with pytest.raises(OutputExistsError, match="already exists; pass --overwrite"):
        atomic_write_text(out, "second")
    assert out.read_text() == "first"
    atomic_write_text(out, "second", overwrite=True)
    assert out.read_text() == "second"


def test_failed_write_leaves_nothing_behind(tmp_path):
    class Boom:
        dtypes = pd.Series(dtype=object)  # no date/time columns

        def to_csv(self, *args, **kwargs):
            raise RuntimeError("disk full")

        to_parquet = to_csv

    with pytest.raises(RuntimeError):
        write_table(Boom(), tmp_path / "t.csv")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_parquet_and_csv_tables(tmp_path):
    df = pd.DataFrame({"a": [1.5, 2.5], "t": pd.date_range("2024", periods=2, freq="h")})
    write_table(df, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"), df, check_dtype=False)
    write_table(df, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text().splitlines()[0] == "a,t"


def test_directory_is_all_or_nothing(tmp_path):
    out = tmp_path / "report"
    with pytest.raises(ValueError), atomic_directory(out, marker="m.json") as tmp:
        (tmp / "m.json").write_text("{}")
        raise ValueError("failed half-way")
    assert list(tmp_path.iterdir()) == []

    with atomic_directory(out, marker="m.json") as tmp:
        (tmp / "m.json").write_text("1")
    with pytest.raises(OutputExistsError):
        with atomic_directory(out, marker="m.json"):
            pass
    with atomic_directory(out, overwrite=True, marker="m.json") as tmp:
        (tmp / "m.json").write_text("2")
    assert (out / "m.json").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_foreign_directory_is_never_overwritten(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputExistsError, match="does not look like an output"):
        with atomic_directory(out, overwrite=True, marker="manifest.json"):
            pass
    assert (out / "thesis.tex").exists()


@pytest.mark.parametrize(
    "times",
    [
        pd.date_range("2024-01-01", periods=30, freq="h"),
        pd.date_range("2024-01-01", periods=30, freq="D"),  # written as dates only
        pd.date_range("2024-03-29", periods=30, freq="D", tz="Europe/Paris"),
        pd.date_range("2024-01-01", periods=30, freq="h", tz="UTC"),
        pd.date_range("2024-01-01", periods=30, freq="250ms"),
        pd.DatetimeIndex(["2024-01-01 01:00", None, "2024-01-02"] * 10),  # a missing time
    ],
    ids=["hourly", "daily", "daily-in-a-zone", "utc", "sub-second", "missing"],
)
def test_csv_tables_are_written_byte_for_byte_as_pandas_writes_them(tmp_path, times):
    """Times are formatted once per distinct value (faster), with pandas' own text."""
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c"] * 10,
            "time": times,
            "y": [0.1 * i for i in range(30)],
            "when": times[::-1],
        }
    )
    write_table(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == table.to_csv(index=False)
