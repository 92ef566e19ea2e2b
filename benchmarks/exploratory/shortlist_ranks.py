"""Where BM25 ranks an item's own functions among the padding of `rixin bench --tools-per-item N`.

    python benchmarks/exploratory/shortlist_ranks.py [--tools 30] [--items 100] [--seed 0]

For each sampled item (simple_python, multiple, parallel_multiple), the worst rank of its gold functions among
the padded list as `rixin.calling.shortlist` scores them: a shortlist of k keeps every gold function iff that
rank is ≤ k. No model runs.
"""

from __future__ import annotations

import argparse
import collections

from rixin.bench.bfcl import distractor_pool, load_category, with_distractors
from rixin.bench.runner import sample
from rixin.calling.shortlist import rank_tools
from rixin.tools import as_tools

CATEGORIES = ("simple_python", "multiple", "parallel_multiple")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=30)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pool = distractor_pool()
    print(f"worst rank of an item's gold functions among {args.tools} tools (seed {args.seed}); kept at k:")
    for category in CATEGORIES:
        worst = collections.Counter()
        items = sample(load_category(category), args.items, args.seed, category)
        for item in items:
            padded = with_distractors(item, args.tools, pool, args.seed)
            tools = as_tools(padded.tools())
            query = "\n".join(m["content"] for m in padded.messages if m["role"] in ("user", "system"))
            scores = rank_tools(tools, query)
            order = sorted(range(len(tools)), key=lambda i: -scores[i])
            rank = {tools[i].name: position + 1 for position, i in enumerate(order)}
            worst[max(rank[name] for call in padded.gold or [] for name in call)] += 1
        kept = {k: sum(n for r, n in worst.items() if r <= k) / len(items) for k in (3, 5, 8, 12)}
        print(f"  {category:18} " + "  ".join(f"k={k}: {100 * v:5.1f}%" for k, v in kept.items()))


if __name__ == "__main__":
    main()
