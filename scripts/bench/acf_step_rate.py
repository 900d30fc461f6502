"""Prints the training throughput of an acf run as one JSON line: images or examples per
second over the step events of metrics.jsonl (logged with train.log_every = 1), after
the first WARMUP steps, where kernels are compiled and buffers allocated.

Usage: acf_step_rate.py METRICS.jsonl BATCH_SIZE WARMUP [key=value ...]
The key=value pairs are added to the JSON line (integers stay integers).
"""

import json
import sys


def main() -> None:
    metrics, batch_size, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    events = [json.loads(line) for line in open(metrics, encoding="utf-8")]
    steps = [event for event in events if event["event"] == "step"][warmup:]
    seconds = sum(batch_size / event["examples_per_second"] for event in steps)
    result = {"peer": "acf"}
    for pair in sys.argv[4:]:
        key, value = pair.split("=", 1)
        result[key] = int(value) if value.isdigit() else value
    result["adapter"] = next(event["adapter"] for event in events if event["event"] == "started")
    result.update({"batch_size": batch_size, "steps": len(steps),
                   "examples_per_second": batch_size * len(steps) / seconds})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
