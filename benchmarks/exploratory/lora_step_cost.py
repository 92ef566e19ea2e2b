"""What one LoRA training step on the embedded 0.5B costs on this machine's CPU.

The question behind it: the 0.5B's remaining tool-call errors are the model's own (docs/results.md §29–30), and
the published way past them is tuning the model on verified calls. Before building a data pipeline, measure
whether training fits a session here at all. The step is timed on token ids of a given length (the cost depends
on the length, not on the text), through the weights rixin already assembled (dequantized by transformers).

Needs its own environment (torch is not one of rixin's dependencies)::

    python3 -m venv /tmp/ft && /tmp/ft/bin/pip install torch==2.13.0 transformers peft gguf accelerate
    PYTHONPATH=src /tmp/ft/bin/python benchmarks/exploratory/lora_step_cost.py --tokens 800 --steps 4

Prints the median seconds per training example (forward, backward, optimizer step) and what that makes of a
training set of a given size.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from lora_common import TARGETS, load_base
from peft import LoraConfig, get_peft_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=800, help="tokens per training example")
    parser.add_argument("--steps", type=int, default=4, help="timed steps (one untimed warm-up before)")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--checkpointing", action="store_true", help="gradient checkpointing")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    started = time.perf_counter()
    model, _ = load_base(dtype)
    print(f"loaded and dequantized in {time.perf_counter() - started:.1f} s")
    if args.checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=TARGETS, task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable parameters: {trainable:,} (rank {args.rank})")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    seconds = []
    for step in range(args.steps + 1):
        ids = torch.randint(0, 150_000, (1, args.tokens), generator=generator)
        began = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step:
            seconds.append(time.perf_counter() - began)
    per_example = statistics.median(seconds)
    print(f"{args.tokens} tokens, {args.dtype}, {args.threads} threads: median {per_example:.2f} s per example")
    for examples in (500, 2_000, 10_000):
        print(f"  one epoch of {examples:>6,} examples: {examples * per_example / 3600:.1f} h")


if __name__ == "__main__":
    main()
