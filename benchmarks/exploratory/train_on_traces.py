"""Train a LoRA adapter for the embedded 0.5B on the engine's own passes (`engine_traces.py`), as a GGUF.

Each kept pass is the engine's prompt as it was sent (few-shot examples, plan prefix and all) and the teacher's
completion; the loss is on the completion only. Where the model itself ended a completion, its end token is
learnt too. A plan the engine cut (a line that added nothing) is learnt as the item's number of lines, then the
end token: the plan is the engine's count of calls, and the teacher's extra lines were what the engine cut.

    PYTHONPATH=src /tmp/ft/bin/python benchmarks/exploratory/train_on_traces.py runs/traces.jsonl \\
        --out runs/adapter-traces \\
        --convert /tmp/sdist/llama_cpp_python-0.3.36/vendor/llama.cpp/convert_lora_to_gguf.py

Environment: as `lora_roundtrip.py`.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from lora_common import TARGETS, converted, llama_token_ids, load_base, training_parser
from peft import LoraConfig, get_peft_model

END = "<|im_end|>"


def target(item: dict[str, Any], step: dict[str, Any]) -> str | None:
    """What the student should write for this pass (None: nothing worth learning)."""
    text = step["completion"]
    if step["stage"] == "plan" and step["cut"]:
        lines = text.split("\n")
        wanted = len(item["calls"])
        return "\n".join(lines[:wanted]) + END if wanted and len(lines) > wanted else None
    if step["finish"] == "stop" and not step["cut"]:
        return text + END
    return text


def examples(paths: list[Path], stages: set[str]) -> list[tuple[str, str, str]]:
    """(kind of item, prompt, target) of every kept pass."""
    found: dict[tuple[str, str], str] = {}  # one pass per (prompt, target): a decide pass may repeat the call pass
    for path in paths:
        for line in path.read_text().splitlines():
            item = json.loads(line)
            if not item["teacher_ok"]:
                continue
            for step in item["passes"]:
                if step["stage"] in stages and (wanted := target(item, step)) is not None:
                    found.setdefault((step["prompt"], wanted), item.get("kind", "listed"))
    return [(kind, prompt, wanted) for (prompt, wanted), kind in found.items()]


def main() -> None:
    parser = training_parser(__doc__.splitlines()[0], "traces", "JSON lines of engine_traces.py")
    parser.add_argument("--stages", default="plan,call,fallback,decide,answer,clauses")
    parser.add_argument("--limit", type=int, default=0, help="train on at most this many passes (0: all)")
    parser.add_argument("--skip-kinds", default="", help="item kinds left out, e.g. unserved")
    parser.add_argument("--keep-kinds", default="", help="item kinds kept whole under --limit")
    parser.add_argument(
        "--decide-calls", type=int, default=-1, help="at most this many decide passes that open a call (-1: all)"
    )
    parser.add_argument(
        "--kind-limits", default="", help="at most this many passes of a kind, e.g. finished=80,continued=200"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    found = examples(args.traces, set(args.stages.split(",")))
    skipped, whole = (set(filter(None, kinds.split(","))) for kinds in (args.skip_kinds, args.keep_kinds))
    found = [f for f in found if f[0] not in skipped]
    random.Random(0).shuffle(found)
    if args.decide_calls >= 0:  # they teach the 0.5B its own habit ("```json"): a few keep it beside the no-tool ones
        dropped = set([f for f in found if f[2].startswith("```")][args.decide_calls :])
        found = [f for f in found if f not in dropped]
    for kind, most in (entry.split("=") for entry in filter(None, args.kind_limits.split(","))):
        over = set([f for f in found if f[0] == kind][int(most) :])
        found = [f for f in found if f not in over]
    if args.limit:  # the kinds named in --keep-kinds whole, the rest up to the limit
        kept = [f for f in found if f[0] in whole]
        rest = [f for f in found if f[0] not in whole]
        found = kept + rest[: max(args.limit - len(kept), 0)]
        random.Random(1).shuffle(found)
    print(f"{len(found)} passes: {dict(Counter(kind for kind, _, _ in found))}", flush=True)
    model, tokenizer = load_base(torch.bfloat16)
    ids_of = llama_token_ids()  # the ids the model sees in rixin, not transformers' (see lora_common)
    # The call grammar writes these tags itself: learning them only raises special tokens where none belong (§31).
    forced = {*ids_of("<tool_call>"), *ids_of("</tool_call>")}
    assert len(forced) == 2, forced
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=TARGETS, task_type="CAUSAL_LM")
    tuned = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in tuned.parameters() if p.requires_grad], lr=args.lr)
    for epoch in range(args.epochs):
        losses, seconds, lengths = [], [], []
        for number, (_, prompt, wanted) in enumerate(found, 1):
            prompt_ids, target_ids = ids_of(prompt), ids_of(wanted)
            began = time.perf_counter()
            loss = tuned(
                input_ids=torch.tensor([prompt_ids + target_ids]),
                labels=torch.tensor([[-100] * len(prompt_ids) + [-100 if t in forced else t for t in target_ids]]),
            ).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            seconds.append(time.perf_counter() - began)
            losses.append(float(loss.detach()))
            lengths.append(len(prompt_ids) + len(target_ids))
            if number % 25 == 0:
                print(f"  {number}/{len(found)}: loss of the last 25 {statistics.mean(losses[-25:]):.3f}", flush=True)
        tenth = max(len(losses) // 10, 1)
        print(
            f"epoch {epoch + 1}: loss first tenth {statistics.mean(losses[:tenth]):.3f}, last tenth "
            f"{statistics.mean(losses[-tenth:]):.3f}; median {statistics.median(seconds):.2f} s per pass "
            f"of median {statistics.median(lengths)} tokens",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    tuned.save_pretrained(args.out / "adapter")
    adapter_gguf = converted(args.convert, model, tokenizer, args.out / "adapter", args.out / "adapter.gguf")
    print(f"adapter GGUF: {adapter_gguf} ({adapter_gguf.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
