#!/usr/bin/env bash
# Training throughput of `acf train` (wgpu and CPU backends) and of PyTorch + transformers
# on the same machine in one session: all-MiniLM-L6-v2, cross-entropy, sequence length 64,
# batch size 32. Prints one JSON line per peer.
#
# Needs scripts/setup (model and data) and, for the PyTorch side, a Python with torch and
# transformers: PYTHON=/path/to/venv/bin/python (default python3). CI does not run this.
#
# Usage: scripts/bench/train_throughput.sh [STEPS] [WGPU_STEPS]
# WGPU_STEPS (default 3) is smaller because a software adapter such as lavapipe takes
# more than a minute per step.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
steps="${1:-20}"
wgpu_steps="${2:-3}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 scripts/bench/make_long_texts.py data/rotten_tomatoes/train.csv "$work/long.csv"
cargo build --release --locked --quiet

for backend in wgpu cpu; do
  timed=$steps
  [ "$backend" = wgpu ] && timed=$wgpu_steps
  # Warm-up steps (kernel compilation, autotuning) are excluded: the first 3 step events
  # are dropped and the rest averaged, weighted by their examples.
  "${CARGO_TARGET_DIR:-target}/release/acf" train --backend "$backend" --run-dir "$work/run-$backend" \
    --set data.train="\"$work/long.csv\"" --set model.max_length=64 \
    --set objective.kind='"ce"' --set objective.correlation_weight=0 \
    --set train.batch_size=32 --set train.max_steps=$((timed + 3)) --set train.log_every=1 \
    >/dev/null 2>"$work/$backend.log"
  python3 scripts/bench/acf_step_rate.py "$work/run-$backend/metrics.jsonl" 32 3 \
    backend="$backend" sequence_length=64
done

HF_HUB_OFFLINE=1 "$python" scripts/bench/pytorch_train_throughput.py "$work/long.csv" --steps "$steps"
