"""Writes a CSV of Rotten Tomatoes snippets joined into texts of at least 64 tokens, so
every training batch is exactly 64 tokens long on both sides of the throughput benchmark.

Usage: make_long_texts.py data/rotten_tomatoes/train.csv OUTPUT.csv
"""

import csv
import sys

JOINED = 4


def main() -> None:
    with open(sys.argv[1], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(sys.argv[2], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for start in range(0, len(rows) - JOINED + 1, JOINED):
            group = rows[start:start + JOINED]
            writer.writerow([" ".join(row["text"] for row in group), group[0]["label"]])


if __name__ == "__main__":
    main()
