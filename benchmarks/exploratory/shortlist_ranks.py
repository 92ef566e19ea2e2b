"""How often a shortlist keeps every one of an item's gold functions among the padding of `rixin bench
--tools-per-item N`, and how many tools it keeps, for a few shortlist settings.

    python benchmarks/exploratory/shortlist_ranks.py [--tools 30] [--items 100] [--seed 0]

For each sampled item (simple_python, multiple, parallel_multiple), `rixin.calling.shortlist.shortlist` is run
on the padded tools with each setting: `top k` keeps the k best for the whole request (`shortlist_size`),
`+1/clause` adds the best for each clause of the request (`shortlist_per_clause`). No model runs.
"""

from __future__ import annotations

import argparse
import statistics

from rixin.bench.bfcl import distractor_pool, load_category, with_distractors
from rixin.bench.runner import sample
from rixin.calling.shortlist import shortlist
from rixin.tools import as_tools
from rixin.types import Message

CATEGORIES = ("simple_python", "multiple", "parallel_multiple")
SETTINGS = {"top 3": (3, 0), "top 5": (5, 0), "top 12": (12, 0), "top 3 +1/clause": (3, 1), "top 5 +1/clause": (5, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=30)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pool = distractor_pool()
    print(f"every gold function kept / mean tools kept, among {args.tools} tools (seed {args.seed}, {args.items} items)")
    print(f"  {'':18} " + "  ".join(f"{name:>17}" for name in SETTINGS))
    for category in CATEGORIES:
        cells = []
        cases = []  # each item padded once: (tools, conversation, gold function names)
        for item in sample(load_category(category), args.items, args.seed, category):
            padded = with_distractors(item, args.tools, pool, args.seed)
            conversation = [Message(role=m["role"], content=m["content"]) for m in padded.messages]
            gold = {name for call in padded.gold or [] for name in call}
            cases.append((as_tools(padded.tools()), conversation, gold))
        for size, per_clause in SETTINGS.values():
            kept, counts = 0, []
            for tools, conversation, gold in cases:
                chosen = {t.name for t in shortlist(tools, conversation, limit=1, size=size, per_clause=per_clause)}
                kept += gold <= chosen
                counts.append(len(chosen))
            cells.append(f"{100 * kept / len(cases):5.1f}% / {statistics.mean(counts):4.1f}")
        print(f"  {category:18} " + "  ".join(f"{cell:>17}" for cell in cells))


if __name__ == "__main__":
    main()
