"""Write small sample inputs for the batch-job example.

- ``train.csv``: hourly sales of ``--train-stores`` stores in one long table
  (columns ``store, time, sales, promo``), for ``cnforecast fit``;
- ``inputs/shop_XXX.csv``: recent history of ``--files`` shops, a few stores per file, with
  ``--horizon`` future rows (empty ``sales``, the planned ``promo``), for
  ``cnforecast forecast-batch``;
- with ``--corrupt``, one more input file with a typo in a number, to see how a bad file is
  reported.

Usage: ``python make_sample_data.py --out work``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def store_history(store: str, n_hours: int, horizon: int, rng: np.random.Generator) -> pd.DataFrame:
    """One store: daily cycle, a store-specific level, promotions that lift sales."""
    t = np.arange(n_hours + horizon)
    promo = (rng.random(len(t)) < 0.1).astype(float)
    level = rng.uniform(20, 80)
    daily = np.clip(np.sin(2 * np.pi * (t % 24 - 6) / 24), 0, None)
    sales = level * (0.2 + daily) * (1 + 0.5 * promo) + rng.normal(0, 2, len(t))
    frame = pd.DataFrame(
        {
            "store": store,
            "time": pd.date_range("2024-03-01", periods=len(t), freq="h"),
            "sales": np.round(np.clip(sales, 0, None), 2),
            "promo": promo,
        }
    )
    frame.loc[n_hours:, "sales"] = np.nan  # the future: promotions are planned, sales unknown
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("work"), help="output folder")
    parser.add_argument("--train-stores", type=int, default=8)
    parser.add_argument("--files", type=int, default=6, help="input files for the batch job")
    parser.add_argument("--stores-per-file", type=int, default=3)
    parser.add_argument("--hours", type=int, default=24 * 14, help="history per store")
    parser.add_argument("--horizon", type=int, default=24, help="future rows per store")
    parser.add_argument("--corrupt", action="store_true", help="add one corrupt input file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train = pd.concat(
        [
            store_history(f"S{i:03d}", args.hours, args.horizon, rng)
            for i in range(args.train_stores)
        ]
    )
    train.to_csv(args.out / "train.csv", index=False)
    inputs = args.out / "inputs"
    inputs.mkdir(exist_ok=True)
    for f in range(args.files):
        stores = [f"F{f:03d}-{k}" for k in range(args.stores_per_file)]
        table = pd.concat([store_history(s, args.hours, args.horizon, rng) for s in stores])
        table.to_csv(inputs / f"shop_{f:03d}.csv", index=False)
    if args.corrupt:
        table = store_history("BAD", args.hours, args.horizon, rng).astype({"sales": object})
        table.loc[10, "sales"] = "12,5"  # a decimal comma: not a number
        table.to_csv(inputs / "shop_corrupt.csv", index=False)
    print(f"wrote {args.out / 'train.csv'} and {len(list(inputs.iterdir()))} files in {inputs}")


if __name__ == "__main__":
    main()
