"""Does lexical shortlisting keep the right tool? Recall of the gold function among many distractors.

    python benchmarks/exploratory/shortlist_recall.py [--seed 7] [--items 60]

For sampled BFCL items (simple_python, multiple, parallel_multiple; development seed), the item's own
functions are pooled with distractors drawn from other items, and `rixin.calling.shortlist` keeps the top k.
Recall = items whose every gold function survives. No model runs: this measures the retrieval alone.
"""

from __future__ import annotations

import argparse
import random
import time

from rixin.bench.bfcl import load_category
from rixin.calling.shortlist import shortlist
from rixin.tools import tool_from_openai
from rixin.types import Message

CATEGORIES = ("simple_python", "multiple", "parallel_multiple")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--items", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    everything = {c: load_category(c) for c in CATEGORIES}
    pool = [t for items in everything.values() for item in items for t in item.tools()]
    print(f"{'category':18} {'tools':>5} " + " ".join(f"{'k=' + str(k):>7}" for k in (3, 5, 8, 12)) + "  ms/request")
    for category, items in everything.items():
        sample = rng.sample(items, min(args.items, len(items)))
        for total in (20, 50):
            hits = {k: 0 for k in (3, 5, 8, 12)}
            seconds = 0.0
            for item in sample:
                own = {t["function"]["name"] for t in item.tools()}
                distractors = [t for t in rng.sample(pool, total * 2) if t["function"]["name"] not in own]
                specs = item.tools() + distractors[: total - len(own)]
                rng.shuffle(specs)
                tools = [tool_from_openai(s) for s in specs]
                gold = {name for call in item.gold or [] for name in call}
                conversation = [Message(role=m["role"], content=m["content"]) for m in item.messages]
                for k in hits:
                    started = time.perf_counter()
                    kept = {t.name for t in shortlist(tools, conversation, k)}
                    seconds += time.perf_counter() - started
                    hits[k] += gold <= kept
            cells = " ".join(f"{hits[k] / len(sample):7.1%}" for k in hits)
            print(f"{category:18} {total:5} {cells}  {seconds / len(sample) / len(hits) * 1000:.2f}")


if __name__ == "__main__":
    main()
