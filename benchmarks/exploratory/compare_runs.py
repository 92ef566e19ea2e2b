"""Two `rixin bench` runs compared on the items both finished (a stopped run against a whole one, or two rows).

    python benchmarks/exploratory/compare_runs.py runs/A runs/B

Prints how many of the common items each run passed, their median s/item, how many items wrote the same raw
output in both (and the median ratio B/A of their seconds: the timing noise between the two runs, since the work
was the same), and each item whose verdict or error code differs: verdict, error code, completion tokens and
seconds in A, then in B.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def load(run: str) -> dict[str, dict[str, Any]]:
    lines = (Path(run) / "items.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return {r["id"]: r for r in records if r.get("system", "rixin") == "rixin"}


def main() -> None:
    first, second = load(sys.argv[1]), load(sys.argv[2])
    common = [item for item in second if item in first]
    print(f"{len(common)} items in both")
    for name, run in ((sys.argv[1], first), (sys.argv[2], second)):
        passed = sum(bool(run[item]["passed"]) for item in common)
        median = statistics.median(run[item]["latency_s"] for item in common)
        print(f"  {name}: {passed} passed, median {median:.2f} s/item")
    same = [item for item in common if first[item]["raw_output"] == second[item]["raw_output"]]
    if same:
        ratio = statistics.median(second[i]["latency_s"] / first[i]["latency_s"] for i in same)
        print(f"  {len(same)} with the same output; their seconds B/A, median {ratio:.2f}")
    for item in common:
        a, b = first[item], second[item]
        if (a["passed"], a["error_code"]) != (b["passed"], b["error_code"]):
            print(f"  {item}: {describe(a)} -> {describe(b)}")


def describe(record: dict[str, Any]) -> str:
    verdict = "passed" if record["passed"] else record["error_code"]
    return f"{verdict} ({record['completion_tokens']} tokens, {record['latency_s']:.1f} s)"


if __name__ == "__main__":
    main()
