"""What the LoRA scripts share: the 0.5B's weights as rixin assembles them, the layers they adapt, loading those
weights into transformers, and turning a PEFT adapter into a GGUF llama.cpp loads.

The scripts run in their own environment (torch is not one of rixin's dependencies) with rixin's sources on the
path: `PYTHONPATH=src /tmp/ft/bin/python benchmarks/exploratory/<script>.py …` (set-up: `lora_roundtrip.py`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from transformers import AutoModelForCausalLM, AutoTokenizer

from rixin.models.registry import assemble

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def training_parser(description: str, data: str, data_help: str) -> argparse.ArgumentParser:
    """The options every training script takes: its data files, where to write, the converter, the LoRA's shape."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(data, nargs="+", type=Path, help=data_help)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--convert", type=Path, required=True, help="llama.cpp's convert_lora_to_gguf.py")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-4)
    return parser


def base_gguf() -> Path:
    """The embedded 0.5B's GGUF, assembled and verified by rixin."""
    return assemble("qwen2.5-coder-0.5b")


def load_base(dtype: Any) -> tuple[Any, Any]:
    """The 0.5B dequantized into transformers, and its tokenizer."""
    gguf = base_gguf()
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=dtype)
    model.config.architectures = [type(model).__name__]  # a config read from a GGUF names none; the converter needs it
    return model, AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def llama_token_ids() -> Any:
    """A function giving text's token ids as llama.cpp makes them (special tokens whole, no BOS).

    The tokenizer transformers reads from the GGUF splits the template's `<tool_call>` into four pieces where
    llama.cpp has one token (docs/results.md §31): trained on its ids, the model learns a spelling it is never
    shown and never asked for."""
    from llama_cpp import Llama

    vocab = Llama(str(base_gguf()), vocab_only=True, verbose=False)
    return lambda text: list(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def converted(convert: Path, model: Any, tokenizer: Any, adapter: Path, out: Path) -> Path:
    """`adapter` (a PEFT folder) as an f16 GGUF at `out`, through llama.cpp's `convert_lora_to_gguf.py`; the base
    config it needs is written beside the adapter. Exits with the converter's error when it fails."""
    base = adapter.parent / "base"
    model.config.save_pretrained(base)
    tokenizer.save_pretrained(base)
    command = [sys.executable, str(convert), "--base", str(base), "--outtype", "f16", "--outfile", str(out)]
    result = subprocess.run([*command, str(adapter)], capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"conversion failed:\n{result.stderr[-3000:]}")
    return out
