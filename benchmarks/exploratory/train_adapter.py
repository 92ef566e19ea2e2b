"""Train a LoRA adapter for the embedded 0.5B on verified calls, and write it as a GGUF llama.cpp loads.

The pipeline's mechanics, end to end, on this machine's CPU (docs/results.md §30): examples as JSON lines
(request, tools, calls — `verified_calls.py` writes them, `rixin/calling/examples.json` holds our own), each
rendered with the model's own chat template and its tools; the loss on the reply only (the template's
`<tool_call>` blocks and the end token); LoRA in bfloat16; the adapter converted with llama.cpp's
`convert_lora_to_gguf.py`; then, for held-out examples, the greedy reply of the quantized model in llama.cpp
with and without the adapter. Examples without calls are skipped (the library's no-call examples hold no reply
to learn).

    PYTHONPATH=src /tmp/ft/bin/python benchmarks/exploratory/train_adapter.py runs/verified-*.jsonl \\
        --out /tmp/adapter \\
        --convert /tmp/sdist/llama_cpp_python-0.3.36/vendor/llama.cpp/convert_lora_to_gguf.py

Environment: as `lora_roundtrip.py`.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any

import torch
from lora_common import TARGETS, base_gguf, converted, llama_token_ids, load_base, training_parser
from peft import LoraConfig, get_peft_model


def reply_text(calls: list[dict[str, Any]]) -> str:
    """The reply in the Qwen2.5 template's own form: one `<tool_call>` block per call, then the end token."""
    blocks = [f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>" for call in calls]
    return "\n".join(blocks) + "<|im_end|>\n"


def tool_names(example: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in example["tools"]}


def calls_in(text: str) -> list[dict[str, Any]]:
    """The calls a reply holds: every top-level JSON object with a name, wherever it stands (in a fence, over
    several lines, or between the `<tool_call>` tokens, which llama.cpp's text leaves out), or a list of them."""
    decoder = json.JSONDecoder()
    calls: list[dict[str, Any]] = []
    position = 0
    while (start := min((i for i in (text.find("{", position), text.find("[", position)) if i >= 0), default=-1)) >= 0:
        try:
            value, position = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "name" in item:
                calls.append(item)
    return calls


def prompt_text(tokenizer: Any, example: dict[str, Any]) -> str:
    """The request with its tools in the model's own chat template, up to where the reply begins."""
    messages = [{"role": "user", "content": example["request"]}]
    return str(
        tokenizer.apply_chat_template(messages, tools=example["tools"], add_generation_prompt=True, tokenize=False)
    )


def encoded(tokenizer: Any, ids_of: Any, example: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Token ids of prompt + reply as llama.cpp makes them (`lora_common.llama_token_ids`), and labels that are
    -100 over the prompt."""
    prompt_ids = ids_of(prompt_text(tokenizer, example))
    reply_ids = ids_of(reply_text(example["calls"]))
    return prompt_ids + reply_ids, [-100] * len(prompt_ids) + reply_ids


def main() -> None:
    parser = training_parser(__doc__.splitlines()[0], "data", "JSON lines: request, tools, calls")
    parser.add_argument("--held-out", type=int, default=8, help="tools whose examples are held out")
    parser.add_argument("--held-out-multi", action="store_true", help="hold out the tools of multi-call examples")
    args = parser.parse_args()
    torch.set_num_threads(2)
    examples = [json.loads(line) for path in args.data for line in path.read_text().splitlines() if line.strip()]
    examples = [e for e in examples if e["calls"]]
    random.Random(0).shuffle(examples)
    # Held out: examples whose tools no training example has, so that a right reply is not a remembered one.
    unseen: set[str] = set()
    for example in examples:
        if len(unseen) < args.held_out and (len(example["calls"]) > 1 or not args.held_out_multi):
            unseen |= tool_names(example)
    held_out = [e for e in examples if tool_names(e) <= unseen]
    training = [e for e in examples if not tool_names(e) & unseen]
    model, tokenizer = load_base(torch.bfloat16)
    ids_of = llama_token_ids()
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=TARGETS, task_type="CAUSAL_LM")
    tuned = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in tuned.parameters() if p.requires_grad], lr=args.lr)
    multi = sum(len(e["calls"]) > 1 for e in training)
    print(f"{len(training)} training examples ({multi} multi-call), {len(held_out)} held out; rank {args.rank}")
    for epoch in range(args.epochs):
        losses, seconds, lengths = [], [], []
        for example in training:
            ids, labels = encoded(tokenizer, ids_of, example)
            began = time.perf_counter()
            loss = tuned(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            seconds.append(time.perf_counter() - began)
            losses.append(float(loss.detach()))
            lengths.append(len(ids))
        tenth = max(len(losses) // 10, 1)
        print(
            f"epoch {epoch + 1}: loss first tenth {statistics.mean(losses[:tenth]):.3f}, last tenth "
            f"{statistics.mean(losses[-tenth:]):.3f}; median {statistics.median(seconds):.2f} s per example "
            f"of median {statistics.median(lengths)} tokens"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    tuned.save_pretrained(args.out / "adapter")
    adapter_gguf = converted(args.convert, model, tokenizer, args.out / "adapter", args.out / "adapter.gguf")
    print(f"adapter GGUF: {adapter_gguf} ({adapter_gguf.stat().st_size / 1e6:.1f} MB)")
    from llama_cpp import Llama  # after training: both hold the model's weights otherwise

    for label, extra in (("without the adapter", {}), ("with the adapter", {"lora_path": str(adapter_gguf)})):
        llm = Llama(str(base_gguf()), n_ctx=2048, n_threads=2, verbose=False, **extra)
        right = {"single": [0, 0], "multi": [0, 0]}
        for example in held_out:
            out = llm(prompt_text(tokenizer, example), max_tokens=160, temperature=0.0, stop=["<|im_end|>"])["choices"][
                0
            ]["text"]
            kind = right["multi" if len(example["calls"]) > 1 else "single"]
            kind[0] += calls_in(out) == example["calls"]
            kind[1] += 1
        scores = ", ".join(f"{k} {v[0]} of {v[1]}" for k, v in right.items())
        print(f"held out (tools never trained on), the verified calls exactly, {label}: {scores}")


if __name__ == "__main__":
    main()
