#!/usr/bin/env bash
# One prepared run for a session lent a GPU machine (about 15 minutes of device time in
# all): the speed and scale measurements first, then as much of the CircuitNet-vs-DLinear
# accuracy grid as fits (seed 0 unless SEEDS says, e.g. SEEDS=1,2). Run from the
# repository root on the GPU machine:
#
#   bash examples/gpu_session.sh            # results under $OUT (or results/gpu)
#
# Before (docs/benchmarks.md, "On a GPU machine"): the data files in .device/datasets (or
# CNFORECAST_DATA set), and cnforecast's dependencies installed or, on a machine without
# internet, their wheels in .whl; both folders are git-ignored.
set -u
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
export CNFORECAST_DATA="${CNFORECAST_DATA:-$PWD/.device/datasets}" PYTHONUNBUFFERED=1
out="${OUT:-results/gpu}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# speed and scale (issue: module step, darts throughput vs the Transformer, data path,
# large batch, wide series, test windows, many series), one JSON record each
timeout "${SPEED_SECONDS:-300}" python3 -m cnforecast bench speed --accelerator gpu \
  --out "$out/speed"

# accuracy: every data set on hand, four horizons; --resume continues a previous session's
# grid from the same records file
timeout "${GRID_SECONDS:-330}" python3 -m cnforecast bench \
  --config examples/configs/accuracy_gpu.yaml --seeds "${SEEDS:-0}" --no-plots \
  --out "$out/accuracy" --resume
python3 -m cnforecast bench report "$out/accuracy/records.jsonl" --out "$out/accuracy"
cat "$out/accuracy/report.md" 2>/dev/null
