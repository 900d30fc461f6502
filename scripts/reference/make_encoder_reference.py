"""Generates tests/fixtures/minilm_reference.json: sentence-transformers' `encode`
embeddings (normalised) and Hugging Face tokenizer ids for all-MiniLM-L6-v2 on ordinary,
empty, non-English, emoji and over-long inputs. The Rust tests compare `acf embed` and
the tokenizer against these.

Run once after `scripts/setup` (which places the model in the Hugging Face cache):
  python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch sentence-transformers
  HF_HUB_OFFLINE=1 /tmp/ref/bin/python scripts/reference/make_encoder_reference.py
"""

import json
import sys
from pathlib import Path

import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = [
    "A gripping, beautifully shot thriller that never lets go.",
    "The plot is thin and the jokes fall flat.",
    "",
    "Ein wunderbarer Film über Freundschaft und Verlust.",
    "这部电影非常精彩，演员的表演令人难忘。",
    "Loved it!!! 🍿🎬😂 would watch again 👍",
    "   leading and trailing spaces   ",
    " ".join(["An overlong review that keeps going and going"] * 60),
]


def main() -> None:
    model = SentenceTransformer(HUB_ID, device="cpu")
    tokenizer = model.tokenizer
    with torch.no_grad():
        embeddings = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, batch_size=4)
    ids = [tokenizer(text, truncation=True, max_length=model.max_seq_length)["input_ids"] for text in TEXTS]
    fixture = {
        "model": HUB_ID,
        "generator": "scripts/reference/make_encoder_reference.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "cases": [
            {"text": text, "input_ids": token_ids, "embedding": [round(float(v), 8) for v in embedding]}
            for text, token_ids, embedding in zip(TEXTS, ids, embeddings)
        ],
    }
    output = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "minilm_reference.json"
    output.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
