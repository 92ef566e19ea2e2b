"""Can a LoRA adapter trained here run inside rixin's runtime, and what does it cost per token?

The path a tuned 0.5B would take: PEFT adapter (trained on the weights rixin assembled, dequantized by
transformers) → llama.cpp's `convert_lora_to_gguf.py` (shipped in llama-cpp-python's source package) → the
unchanged quantized GGUF loaded with `Llama(lora_path=...)`. This script makes an adapter with random weights
(so that it changes the model's output), converts it, checks that llama.cpp's next-token choices agree with
transformers + PEFT on the same prompt, and times generation with and without the adapter, interleaved.

Needs its own environment (torch is not one of rixin's dependencies), rixin's sources on the path (`PYTHONPATH=src`,
for the model rixin assembles) and llama.cpp's conversion script::

    python3 -m venv /tmp/ft && /tmp/ft/bin/pip install torch==2.13.0 transformers peft gguf accelerate
    /tmp/ft/bin/pip install ~/.cache/rixin/wheels/*/llama_cpp_python-*.whl    # the wheel `make` built
    .venv/bin/pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/sdist
    (cd /tmp/sdist && tar xzf llama_cpp_python-0.3.36.tar.gz --wildcards \
        '*/vendor/llama.cpp/convert_lora_to_gguf.py' '*/vendor/llama.cpp/conversion/*' '*/vendor/llama.cpp/gguf-py/*')
    PYTHONPATH=src /tmp/ft/bin/python benchmarks/exploratory/lora_roundtrip.py \
        --convert /tmp/sdist/llama_cpp_python-0.3.36/vendor/llama.cpp/convert_lora_to_gguf.py

(torch==2.13.0 is the CPU build on this machine's disk; an unpinned torch pulls a CUDA build of several GB.)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from llama_cpp import Llama
from lora_common import TARGETS, base_gguf, converted, load_base
from peft import LoraConfig, get_peft_model

PROMPT = (
    "<|im_start|>system\nYou call tools. Reply with one JSON object.<|im_end|>\n"
    "<|im_start|>user\nConvert 12 feet to metres with convert_length(value, from_unit, to_unit).<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def make_adapter(folder: Path, rank: int, scale: float) -> tuple[Any, Any, list[int]]:
    """Write a PEFT adapter with random weights; return the base model, its tokenizer and transformers' greedy
    tokens with the adapter."""
    model, tokenizer = load_base(torch.float32)
    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=TARGETS, init_lora_weights=False)
    tuned = get_peft_model(model, config)
    with torch.no_grad():
        for name, parameter in tuned.named_parameters():
            if "lora_" in name:
                parameter.normal_(0.0, scale)
    tuned.save_pretrained(folder / "adapter")
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        out = tuned.generate(ids, max_new_tokens=24, do_sample=False)
    return model, tokenizer, [int(t) for t in out[0, ids.shape[1] :]]


def greedy(llm: Llama, tokens: int, stop_at_eos: bool = True) -> tuple[list[int], float]:
    """Greedy tokens after the prompt and the generation rate (tokens per second)."""
    llm.reset()
    prompt = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    out: list[int] = []
    began = None
    for token in llm.generate(prompt, temp=0.0, top_k=1, reset=True):
        if began is None:
            began = time.perf_counter()  # the prompt is evaluated before the first token comes
        if (stop_at_eos and token == llm.token_eos()) or len(out) >= tokens:
            break
        out.append(token)
    elapsed = time.perf_counter() - (began or time.perf_counter())
    return out, max(len(out) - 1, 1) / max(elapsed, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convert", type=Path, required=True, help="llama.cpp's convert_lora_to_gguf.py")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.02, help="std of the random adapter weights")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model, tokenizer, reference = make_adapter(folder, args.rank, args.scale)
        adapter_gguf = converted(args.convert, model, tokenizer, folder / "adapter", folder / "adapter.gguf")
        print(f"adapter GGUF: {adapter_gguf.stat().st_size / 1e6:.1f} MB (rank {args.rank}, f16)")
        gguf = str(base_gguf())
        plain = Llama(gguf, n_ctx=1024, n_threads=2, verbose=False)
        tuned = Llama(gguf, n_ctx=1024, n_threads=2, lora_path=str(adapter_gguf), verbose=False)
        plain_tokens, _ = greedy(plain, 24)
        tuned_tokens, _ = greedy(tuned, 24)
        same = sum(a == b for a, b in zip(tuned_tokens, reference, strict=False))
        print(f"llama.cpp + adapter vs transformers + PEFT, greedy: {same} of {len(reference)} tokens agree")
        print(f"  with the adapter: {tuned.detokenize(tuned_tokens)!r}")
        print(f"  without:          {plain.detokenize(plain_tokens)!r}")
        rates: dict[str, list[float]] = {"plain": [], "adapter": []}
        for _ in range(args.rounds):
            for label, llm in (("plain", plain), ("adapter", tuned)):
                rates[label].append(greedy(llm, args.tokens, stop_at_eos=False)[1])
        plain_rate, tuned_rate = (statistics.median(rates[k]) for k in ("plain", "adapter"))
        print(f"generation, median of {args.rounds}: {plain_rate:.1f} tok/s plain, {tuned_rate:.1f} with the adapter")
        print(f"  time per token with the adapter: {plain_rate / tuned_rate:.2f}x")


if __name__ == "__main__":
    main()
