"""The data-set registry: one metadata record per benchmark file, by name.

One explicit mapping, :data:`DATASETS`, used by the Python API (:func:`load_dataset`,
:func:`standard_split`), the command line (``cnforecast datasets ...``) and the tests. Each
record says where the file comes from, how to check it (sha256 where known), how to read it
(time column, columns, frequency, header repairs), how to split it, its licence and quirks.
The data-set cards in the repository's ``datasets/README.md`` describe the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from cnforecast.datasets.errors import UnknownDatasetError
from cnforecast.datasets.rules import ETT_HOURLY_SPLIT, ETT_MINUTE_SPLIT, RATIO_SPLIT, SplitRule

TimeIndexKind = Literal["datetime", "range"]


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one benchmark file.

    Parameters
    ----------
    name
        Canonical name (registry key); lookups ignore case.
    file_name
        Name of the CSV file, in every folder searched.
    columns
        Value columns in file order (after :attr:`header_repairs`), without the time column.
    frequency
        Sampling step as a pandas offset alias (``"h"``, ``"15min"``, ``"10min"``, ``"D"``).
    split
        The standard split rule (:mod:`cnforecast.datasets.rules`).
    n_rows
        Number of data rows of the published file, when known; checked on load.
    url
        Direct HTTPS download address, or ``None`` when the file is only distributed in a
        bundle that cannot be fetched by a plain request (see :attr:`how_to_obtain`).
    sha256
        Checksum of the published file, or ``None`` when it is not known here; unknown
        checksums are reported with a logged warning, never invented.
    time_column
        Name of the timestamp column.
    time_index
        ``"datetime"``: the loaded series is indexed by its timestamps, which must form a
        regular grid at :attr:`frequency`. ``"range"``: indexed by row position (0 .. n-1)
        because the timestamps are not regular; they stay available through
        :func:`~cnforecast.datasets.load_timestamps`.
    header_repairs
        ``(damaged, original)`` column-name pairs applied when reading.
    source, licence, how_to_obtain, quirks
        Free text for the data-set cards, ``cnforecast datasets info`` and error messages.
    """

    name: str
    file_name: str
    columns: tuple[str, ...]
    frequency: str
    split: SplitRule
    n_rows: int | None
    url: str | None
    sha256: str | None
    source: str
    licence: str
    how_to_obtain: str
    quirks: str = "none known"
    time_column: str = "date"
    time_index: TimeIndexKind = "datetime"
    header_repairs: tuple[tuple[str, str], ...] = ()

    @property
    def n_series(self) -> int:
        """Number of series (value columns)."""
        return len(self.columns)


_ETT_COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
_ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/{}.csv"
_ETT_SOURCE = (
    "Electricity Transformer Temperature, two transformer stations in China, July 2016 to "
    "July 2018 (Zhou et al., Informer, AAAI 2021); https://github.com/zhouhaoyi/ETDataset"
)
_ETT_LICENCE = "CC BY-ND 4.0 (ETDataset repository)"
_ETT_QUIRKS = "none: LF line endings, a regular time grid, no missing values"

_BUNDLE = (
    "the 'all_six_datasets' bundle of the Autoformer / Time-Series-Library authors, linked "
    "from the Autoformer README (https://github.com/thuml/Autoformer, a Google Drive folder: "
    "https://drive.google.com/drive/folders/1ZOYpTUa82_jCcxIdTmyr0LXQfvaM9vIy); it cannot be "
    "fetched by a plain HTTPS request"
)


def _how_to_obtain_bundle(member: str, file_name: str) -> str:
    return (
        f"download {_BUNDLE}. Copy {member} from it into the folder named by CNFORECAST_DATA, "
        f"into the repository's datasets/ folder, or pass its path (path=...); the file name "
        f"must stay {file_name}."
    )


def _numbered(n_series: int) -> tuple[str, ...]:
    """``0, 1, ..., n-2, OT``: the column layout of the bundle's multi-series files."""
    return (*(str(i) for i in range(n_series - 1)), "OT")


def _ett(name: str, frequency: str, n_rows: int, sha256: str | None) -> DatasetInfo:
    minute = frequency != "h"
    url = _ETT_URL.format(name)
    return DatasetInfo(
        name=name,
        file_name=f"{name}.csv",
        columns=_ETT_COLUMNS,
        frequency=frequency,
        split=ETT_MINUTE_SPLIT if minute else ETT_HOURLY_SPLIT,
        n_rows=n_rows,
        url=url,
        sha256=sha256,
        source=_ETT_SOURCE,
        licence=_ETT_LICENCE,
        how_to_obtain=f"downloaded automatically from {url} when online",
        quirks=_ETT_QUIRKS,
    )


_WEATHER_DAMAGED = "\ufffd"
_WEATHER_REPAIRS = (
    (f"SWDR (W/m{_WEATHER_DAMAGED})", "SWDR (W/m\u00b2)"),
    (f"PAR ({_WEATHER_DAMAGED}mol/m{_WEATHER_DAMAGED}/s)", "PAR (\u00b5mol/m\u00b2/s)"),
    (f"max. PAR ({_WEATHER_DAMAGED}mol/m{_WEATHER_DAMAGED}/s)", "max. PAR (\u00b5mol/m\u00b2/s)"),
)
_WEATHER_COLUMNS = (
    "p (mbar)",
    "T (degC)",
    "Tpot (K)",
    "Tdew (degC)",
    "rh (%)",
    "VPmax (mbar)",
    "VPact (mbar)",
    "VPdef (mbar)",
    "sh (g/kg)",
    "H2OC (mmol/mol)",
    "rho (g/m**3)",
    "wv (m/s)",
    "max. wv (m/s)",
    "wd (deg)",
    "rain (mm)",
    "raining (s)",
    "SWDR (W/m\u00b2)",
    "PAR (\u00b5mol/m\u00b2/s)",
    "max. PAR (\u00b5mol/m\u00b2/s)",
    "Tlog (degC)",
    "OT",
)

DATASETS: Mapping[str, DatasetInfo] = MappingProxyType(
    {
        "ETTh1": _ett(
            "ETTh1", "h", 17420, "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"
        ),
        "ETTh2": _ett(
            "ETTh2", "h", 17420, "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b"
        ),
        "ETTm1": _ett(
            "ETTm1",
            "15min",
            69680,
            "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
        ),
        "ETTm2": _ett("ETTm2", "15min", 69680, None),
        "Weather": DatasetInfo(
            name="Weather",
            file_name="weather.csv",
            columns=_WEATHER_COLUMNS,
            frequency="10min",
            split=RATIO_SPLIT,
            n_rows=52696,
            url=None,
            sha256="34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
            source=(
                "21 meteorological variables of 2020 every 10 minutes from the weather station "
                "of the Max Planck Institute for Biogeochemistry, Jena "
                "(https://www.bgc-jena.mpg.de/wetter/), as prepared by the Autoformer authors "
                "(weather/weather.csv of their bundle)"
            ),
            licence=(
                "not stated by the bundle; the station records are published openly by the "
                "Max Planck Institute for Biogeochemistry"
            ),
            how_to_obtain=_how_to_obtain_bundle("weather/weather.csv", "weather.csv"),
            quirks=(
                "CRLF line endings; the header holds U+FFFD replacement characters where the "
                "station file had '\u00b2' and '\u00b5' (repaired on reading: 'SWDR (W/m\u00b2)', "
                "'PAR (\u00b5mol/m\u00b2/s)', 'max. PAR (\u00b5mol/m\u00b2/s)'); 80 rows hold the "
                "sentinel -9999 (kept as-is, as the literature does); one duplicated timestamp "
                "(2020-05-12 06:00, data rows 19043 and 19044 counted from 0, identical values) "
                "and one 100-minute gap (2020-05-29 09:30 to 11:10, between rows 21513 and "
                "21514). Every row is kept and the series is indexed by row position, because "
                "the literature slices by position; the timestamps are available from "
                "load_timestamps('Weather')"
            ),
            time_index="range",
            header_repairs=_WEATHER_REPAIRS,
        ),
        "Electricity": DatasetInfo(
            name="Electricity",
            file_name="electricity.csv",
            columns=_numbered(321),
            frequency="h",
            split=RATIO_SPLIT,
            n_rows=26304,
            url=None,
            sha256=None,
            source=(
                "hourly consumption in kWh of 321 clients, 2016 to 2019 (ECL), derived from "
                "the UCI ElectricityLoadDiagrams20112014 data set "
                "(https://archive.ics.uci.edu/dataset/321), as prepared by the Autoformer "
                "authors (electricity/electricity.csv of their bundle)"
            ),
            licence="UCI Machine Learning Repository: CC BY 4.0 (the source data set)",
            how_to_obtain=_how_to_obtain_bundle("electricity/electricity.csv", "electricity.csv"),
            quirks="columns named 0..319 then OT (the last client)",
        ),
        "Traffic": DatasetInfo(
            name="Traffic",
            file_name="traffic.csv",
            columns=_numbered(862),
            frequency="h",
            split=RATIO_SPLIT,
            n_rows=17544,
            url=None,
            sha256=None,
            source=(
                "hourly road occupancy rates (0 to 1) of 862 sensors on San Francisco Bay area "
                "freeways, 2016 to 2018, from the California Department of Transportation "
                "(PeMS, https://pems.dot.ca.gov), as prepared by the Autoformer authors "
                "(traffic/traffic.csv of their bundle)"
            ),
            licence="not stated by the bundle; PeMS data is published by Caltrans",
            how_to_obtain=_how_to_obtain_bundle("traffic/traffic.csv", "traffic.csv"),
            quirks="columns named 0..860 then OT (the last sensor)",
        ),
        "Exchange": DatasetInfo(
            name="Exchange",
            file_name="exchange_rate.csv",
            columns=_numbered(8),
            frequency="D",
            split=RATIO_SPLIT,
            n_rows=7588,
            url=None,
            sha256=None,
            source=(
                "daily exchange rates of eight countries from 1990 (Lai et al., LSTNet, "
                "https://github.com/laiguokun/multivariate-time-series-data), as prepared by "
                "the Autoformer authors (exchange_rate/exchange_rate.csv of their bundle)"
            ),
            licence="not stated by the distributors",
            how_to_obtain=_how_to_obtain_bundle(
                "exchange_rate/exchange_rate.csv", "exchange_rate.csv"
            ),
            quirks="columns named 0..6 then OT; dates may be written like 1990/1/1 0:00",
        ),
    }
)
"""Every benchmark data set, by canonical name, in the order of the literature's tables."""


def available_datasets() -> list[str]:
    """Canonical names of the registered data sets, in registry order.

    Examples
    --------
    >>> available_datasets()[:4]
    ['ETTh1', 'ETTh2', 'ETTm1', 'ETTm2']
    """
    return list(DATASETS)


def get_dataset_info(name: str) -> DatasetInfo:
    """The record of data set ``name``, ignoring case.

    Raises
    ------
    UnknownDatasetError
        For a name that is not registered; the message lists the known names.

    Examples
    --------
    >>> info = get_dataset_info("etth1")
    >>> info.name, info.file_name, info.n_series
    ('ETTh1', 'ETTh1.csv', 7)
    """
    if isinstance(name, str):
        wanted = name.strip().lower()
        for key, info in DATASETS.items():
            if key.lower() == wanted:
                return info
    raise UnknownDatasetError(str(name), DATASETS)
