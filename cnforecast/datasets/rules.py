"""The standard train / validation / test split rules of the long-horizon benchmark.

The numbers are those of Time-Series-Library ``data_provider/data_loader.py``
(https://github.com/thuml/Time-Series-Library), which Autoformer, FEDformer, PatchTST,
iTransformer and most later papers share: keep them as they are so that results stay
comparable with the published tables.

A rule only says how many rows each part holds; :func:`cnforecast.datasets.split_borders`
turns it into row borders for a given lookback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cnforecast.datasets.errors import SplitError


@dataclass(frozen=True)
class FixedSplit:
    """Fixed row counts, taken from the start of the file; later rows are not used.

    Parameters
    ----------
    train, val, test
        Number of rows of each part (without the lookback rows that the validation and
        test parts borrow from the part before them).

    Examples
    --------
    >>> FixedSplit(train=10, val=3, test=3).lengths(20)
    (10, 3, 3)
    """

    train: int
    val: int
    test: int

    def lengths(self, n_rows: int) -> tuple[int, int, int]:
        """Rows of train, validation and test for a file of ``n_rows`` rows."""
        needed = self.train + self.val + self.test
        if n_rows < needed:
            raise SplitError(
                f"{self.describe()} needs at least {needed} rows; the series has {n_rows}"
            )
        return self.train, self.val, self.test

    def describe(self) -> str:
        """One line for the command line and the data-set cards."""
        return (
            f"fixed rows: train {self.train}, val {self.val}, test {self.test} "
            f"(rows from {self.train + self.val + self.test} on are unused)"
        )


@dataclass(frozen=True)
class RatioSplit:
    """Fractions of the file: ``int(train * n)`` rows, ``int(test * n)`` rows, val the rest.

    The rounding is Time-Series-Library's ``Dataset_Custom``: ``int(len(df_raw) * 0.7)``
    training rows, ``int(len(df_raw) * 0.2)`` test rows and the remaining rows for
    validation, with the same floating-point products.

    Examples
    --------
    >>> RatioSplit(train=0.7, test=0.2).lengths(52696)
    (36887, 5270, 10539)
    """

    train: float = 0.7
    test: float = 0.2

    def __post_init__(self) -> None:
        if not (0 < self.train < 1 and 0 < self.test < 1 and self.train + self.test < 1):
            raise ValueError(
                f"train and test fractions must be in (0, 1) with a sum below 1, "
                f"got train={self.train}, test={self.test}"
            )

    def lengths(self, n_rows: int) -> tuple[int, int, int]:
        """Rows of train, validation and test for a file of ``n_rows`` rows."""
        n_train = int(n_rows * self.train)
        n_test = int(n_rows * self.test)
        n_val = n_rows - n_train - n_test
        if min(n_train, n_val, n_test) < 1:
            raise SplitError(
                f"{self.describe()} leaves an empty part for a series of {n_rows} rows"
            )
        return n_train, n_val, n_test

    def describe(self) -> str:
        """One line for the command line and the data-set cards."""
        return (
            f"ratios: train int({self.train} n), test int({self.test} n), val the rest "
            "(n the number of rows)"
        )


SplitRule = FixedSplit | RatioSplit
"""Any split rule."""

ETT_HOURLY_SPLIT: Final = FixedSplit(train=12 * 30 * 24, val=4 * 30 * 24, test=4 * 30 * 24)
"""ETTh1 / ETTh2: 12 months of training rows, then 4 months each of validation and test.

Time-Series-Library ``data_provider/data_loader.py``, ``Dataset_ETT_hour.__read_data__``:
``border1s = [0, 12*30*24 - seq_len, 12*30*24 + 4*30*24 - seq_len]``,
``border2s = [12*30*24, 12*30*24 + 4*30*24, 12*30*24 + 8*30*24]``, i.e. 8640 / 2880 / 2880
rows; the last 3020 rows of the 17,420 are not used.
"""

ETT_MINUTE_SPLIT: Final = FixedSplit(
    train=12 * 30 * 24 * 4, val=4 * 30 * 24 * 4, test=4 * 30 * 24 * 4
)
"""ETTm1 / ETTm2: the hourly borders times 4 (34560 / 11520 / 11520 rows of 15 minutes).

Time-Series-Library ``data_provider/data_loader.py``, ``Dataset_ETT_minute.__read_data__``.
"""

RATIO_SPLIT: Final = RatioSplit(train=0.7, test=0.2)
"""Weather, Electricity, Traffic, Exchange: 70 % train, 20 % test, the rest validation.

Time-Series-Library ``data_provider/data_loader.py``, ``Dataset_Custom.__read_data__``:
``num_train = int(len(df_raw) * 0.7)``, ``num_test = int(len(df_raw) * 0.2)``,
``num_vali = len(df_raw) - num_train - num_test``.
"""
