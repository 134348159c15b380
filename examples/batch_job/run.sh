#!/usr/bin/env bash
# The batch-job example end to end: sample data, training, batch forecasts, a rerun that
# resumes, and a backtest. Run from this folder: `bash run.sh` (about a minute on a laptop CPU).
set -euo pipefail
cd "$(dirname "$0")"
WORK=${WORK:-work}

# 1. tiny sample inputs (one of them corrupt on purpose)
python make_sample_data.py --out "$WORK" --corrupt

# 2. train: the config file holds the model, training settings and columns
cnforecast fit --data "$WORK/train.csv" --config config.yaml --out "$WORK/model" --overwrite

# 3. forecast every input file, 24 hours ahead, in batches of 256 series.
#    The corrupt file is reported and the exit status is 1; the other files are done.
cnforecast forecast-batch --model-dir "$WORK/model" --inputs "$WORK/inputs/*.csv" \
    --out "$WORK/forecasts" -n 24 --batch-size 256 || echo "(exit status $?: see the failed file above)"

# 4. a rerun skips what is done (resumable) and retries only what failed
cnforecast forecast-batch --model-dir "$WORK/model" --inputs "$WORK/inputs" \
    --out "$WORK/forecasts" -n 24 --quiet || true
cat "$WORK/forecasts/_summary.json"

# 5. how good is the model on one shop's history? (forecasts from 80 % of the history on)
cnforecast backtest --model-dir "$WORK/model" --data "$WORK/inputs/shop_000.csv" \
    --start 0.8 --out "$WORK/backtest" --overwrite
