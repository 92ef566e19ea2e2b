"""A LoRA adapter applied through `--model MODEL+ADAPTER.gguf`, on the real SmolLM2-135M: adapters written here
with gguf-py in the layout llama.cpp loads (`blk.N.attn_q.weight.lora_a`/`.lora_b`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rixin.errors import ModelIntegrityError
from rixin.models import LlamaModel, load_model
from rixin.types import GenerationOptions

EMBEDDING = 576  # SmolLM2-135M's hidden size: attn_q maps it to itself


def write_adapter(path: Path, *, scale: float, rank: int = 4, layers: int = 30) -> Path:
    """A rank-`rank` LoRA on every layer's attn_q, B = `scale` × a fixed random matrix (0: a no-op adapter)."""
    import gguf

    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    for layer in range(layers):
        a = rng.standard_normal((rank, EMBEDDING)).astype(np.float32)
        b = (scale * rng.standard_normal((EMBEDDING, rank))).astype(np.float32)
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_a", a)
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


PROMPT = "<|im_start|>user\nName three colours.<|im_end|>\n<|im_start|>assistant\n"


def greedy(model: LlamaModel) -> str:
    return model.generate(PROMPT, GenerationOptions(max_tokens=24, temperature=0.0)).text


@pytest.mark.model
def test_an_adapter_changes_generation_and_a_zero_one_does_not(smol_model: LlamaModel, tmp_path: Path) -> None:
    plain = greedy(smol_model)
    zero = load_model(f"smollm2-135m+{write_adapter(tmp_path / 'zero.gguf', scale=0.0)}", n_threads=1)
    strong = load_model(f"smollm2-135m+{write_adapter(tmp_path / 'strong.gguf', scale=0.5)}", n_threads=1)
    assert isinstance(zero, LlamaModel) and isinstance(strong, LlamaModel)
    assert zero is not strong and zero is not smol_model
    assert zero.name == strong.name == "smollm2-135m"  # the model keeps its name (and its calling defaults)
    assert zero.info.adapter == (tmp_path / "zero.gguf").resolve()
    assert smol_model.info.adapter is None
    assert greedy(zero) == plain
    assert greedy(strong) != plain


@pytest.mark.model
def test_a_file_llama_cpp_cannot_load_as_an_adapter_is_a_clear_error(smol_model: LlamaModel, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.gguf"
    garbage.write_text("not an adapter")
    with pytest.raises(ModelIntegrityError, match="not a GGUF file"):
        load_model(f"smollm2-135m+{garbage}", n_threads=1)
    # A GGUF, but a model, not an adapter: llama.cpp rejects it, which llama-cpp-python would let pass.
    with pytest.raises(ModelIntegrityError, match="could not load"):
        load_model(f"smollm2-135m+{smol_model.info.path}", n_threads=1)
