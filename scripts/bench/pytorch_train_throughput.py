"""PyTorch + transformers side of the training throughput benchmark: fine-tunes
all-MiniLM-L6-v2 (BertForSequenceClassification, cross-entropy, AdamW) on the CSV from
make_long_texts.py with sequence length 64 and batch size 32, and prints examples per
second over the timed steps as JSON. Mirrors `acf train` with kind = "ce".

Usage (torch and transformers from PyPI; HF_HUB_OFFLINE=1 with the model in the HF cache):
  python pytorch_train_throughput.py LONG.csv [--steps 20] [--warmup-steps 3]
"""

import argparse
import csv
import json
import time

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    args = parser.parse_args()

    torch.manual_seed(42)
    with open(args.data, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted({row["label"] for row in rows})
    tokenizer = AutoTokenizer.from_pretrained(HUB_ID)
    model = AutoModelForSequenceClassification.from_pretrained(HUB_ID, num_labels=len(names))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)

    def batch(step: int):
        start = (step * args.batch_size) % (len(rows) - args.batch_size)
        part = rows[start:start + args.batch_size]
        encoded = tokenizer([row["text"] for row in part], truncation=True, max_length=args.max_length,
                            padding="longest", return_tensors="pt")
        labels = torch.tensor([names.index(row["label"]) for row in part])
        return encoded, labels

    timed_examples = 0
    timed_seconds = 0.0
    for step in range(args.warmup_steps + args.steps):
        encoded, labels = batch(step)
        start = time.perf_counter()
        loss = model(**encoded, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        elapsed = time.perf_counter() - start
        if step >= args.warmup_steps:
            timed_examples += labels.shape[0]
            timed_seconds += elapsed

    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "sequence_length": int(encoded["input_ids"].shape[1]),
        "batch_size": args.batch_size,
        "steps": args.steps,
        "examples_per_second": timed_examples / timed_seconds,
    }))


if __name__ == "__main__":
    main()
