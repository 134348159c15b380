"""The data-set registry: names, lookups, metadata and split rules."""

from __future__ import annotations

import dataclasses
import re

import pytest

from cnforecast.datasets import (
    DATASETS,
    ETT_HOURLY_SPLIT,
    ETT_MINUTE_SPLIT,
    RATIO_SPLIT,
    DatasetError,
    DatasetInfo,
    FixedSplit,
    RatioSplit,
    SplitError,
    UnknownDatasetError,
    available_datasets,
    get_dataset_info,
)
from cnforecast.datasets import errors as errors_module

CANONICAL = ("ETTh1", "ETTh2", "ETTm1", "ETTm2", "Weather", "Electricity", "Traffic", "Exchange")
# The files on hand (SHA256SUMS of the shared benchmark folder).
KNOWN_SHA256 = {
    "ETTh1": "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    "ETTh2": "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
    "ETTm1": "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
    "Weather": "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
}


def test_registry_holds_the_canonical_names_in_order():
    assert tuple(DATASETS) == CANONICAL
    assert available_datasets() == list(CANONICAL)
    for key, info in DATASETS.items():
        assert isinstance(info, DatasetInfo)
        assert info.name == key


@pytest.mark.parametrize("name", CANONICAL)
def test_lookup_ignores_case(name):
    info = DATASETS[name]
    assert get_dataset_info(name) is info
    assert get_dataset_info(name.lower()) is info
    assert get_dataset_info(name.upper()) is info
    assert get_dataset_info(f" {name.swapcase()} ") is info


def test_unknown_name_lists_the_known_names():
    with pytest.raises(UnknownDatasetError) as caught:
        get_dataset_info("ETTh3")
    message = str(caught.value)
    assert "'ETTh3'" in message
    for name in CANONICAL:
        assert name in message
    assert isinstance(caught.value, DatasetError)
    assert isinstance(caught.value, KeyError)


def test_every_error_is_an_ordinary_exception():
    classes = [
        value
        for value in vars(errors_module).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(classes) >= 6
    for cls in classes:
        assert issubclass(cls, Exception)
        assert issubclass(cls, DatasetError)


@pytest.mark.parametrize(
    ("name", "n_series", "frequency", "rule"),
    [
        ("ETTh1", 7, "h", ETT_HOURLY_SPLIT),
        ("ETTh2", 7, "h", ETT_HOURLY_SPLIT),
        ("ETTm1", 7, "15min", ETT_MINUTE_SPLIT),
        ("ETTm2", 7, "15min", ETT_MINUTE_SPLIT),
        ("Weather", 21, "10min", RATIO_SPLIT),
        ("Electricity", 321, "h", RATIO_SPLIT),
        ("Traffic", 862, "h", RATIO_SPLIT),
        ("Exchange", 8, "D", RATIO_SPLIT),
    ],
)
def test_shapes_frequencies_and_rules(name, n_series, frequency, rule):
    info = get_dataset_info(name)
    assert info.n_series == n_series
    assert len(set(info.columns)) == n_series
    assert info.columns[-1] == "OT"
    assert info.frequency == frequency
    assert info.split == rule
    assert info.time_column == "date"
    assert info.licence and info.source and info.how_to_obtain and info.quirks


def test_numbered_layouts():
    for name, n_series in (("Electricity", 321), ("Traffic", 862), ("Exchange", 8)):
        info = get_dataset_info(name)
        assert info.columns == (*(str(i) for i in range(n_series - 1)), "OT")


def test_checksums_are_known_only_for_the_files_on_hand():
    for name in CANONICAL:
        info = get_dataset_info(name)
        assert info.sha256 == KNOWN_SHA256.get(name)
        if info.sha256 is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", info.sha256)


def test_download_addresses():
    for name in ("ETTh1", "ETTh2", "ETTm1", "ETTm2"):
        assert get_dataset_info(name).url == (
            f"https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/{name}.csv"
        )
    for name in ("Weather", "Electricity", "Traffic", "Exchange"):
        info = get_dataset_info(name)
        assert info.url is None
        assert "all_six_datasets" in info.how_to_obtain
        assert "Autoformer" in info.how_to_obtain
        assert info.file_name in info.how_to_obtain


def test_weather_is_indexed_by_position_and_its_header_repaired():
    info = get_dataset_info("Weather")
    assert info.time_index == "range"
    assert "SWDR (W/m²)" in info.columns
    assert "PAR (µmol/m²/s)" in info.columns
    assert "max. PAR (µmol/m²/s)" in info.columns
    assert not any("\ufffd" in column for column in info.columns)
    assert {original for _, original in info.header_repairs} <= set(info.columns)
    assert all(get_dataset_info(n).time_index == "datetime" for n in CANONICAL if n != "Weather")


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DATASETS["ETTh1"].sha256 = "0" * 64  # type: ignore[misc]
    with pytest.raises(TypeError):
        DATASETS["New"] = DATASETS["ETTh1"]  # type: ignore[index]


def test_split_rule_constants_match_time_series_library():
    assert ETT_HOURLY_SPLIT == FixedSplit(train=8640, val=2880, test=2880)
    assert ETT_MINUTE_SPLIT == FixedSplit(train=34560, val=11520, test=11520)
    assert RATIO_SPLIT == RatioSplit(train=0.7, test=0.2)
    assert RATIO_SPLIT.lengths(52696) == (36887, 5270, 10539)
    assert RATIO_SPLIT.lengths(26304) == (18412, 2632, 5260)
    assert ETT_HOURLY_SPLIT.lengths(17420) == (8640, 2880, 2880)


def test_split_rules_reject_impossible_sizes():
    with pytest.raises(SplitError, match="needs at least 14400 rows"):
        ETT_HOURLY_SPLIT.lengths(14399)
    with pytest.raises(SplitError, match="empty part"):
        RATIO_SPLIT.lengths(3)
    with pytest.raises(ValueError, match="fractions"):
        RatioSplit(train=0.9, test=0.2)
