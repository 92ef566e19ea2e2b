"""The embedded llama.cpp runtime on the real SmolLM2-135M (the smallest embedded model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rixin.calling.constrain import GrammarConstraint, json_grammar
from rixin.errors import ModelNotFoundError
from rixin.models import LlamaModel, load_model
from rixin.types import GenerationOptions


def chat(text: str) -> str:
    return f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"


COUNT = chat("Count from 1 to 20, one number per line.")


def test_missing_gguf_path(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="GGUF file not found"):
        LlamaModel(tmp_path / "missing.gguf")
    with pytest.raises(ModelNotFoundError) as caught:
        load_model(str(tmp_path / "missing.gguf"))
    assert "missing.gguf" in str(caught.value) and "smollm2-135m" in str(caught.value)


@pytest.mark.model
def test_info(smol_model: LlamaModel) -> None:
    info = smol_model.info
    assert info.name == smol_model.name == "smollm2-135m"
    assert info.architecture == "llama"
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template
    assert info.eos_token == "<|im_end|>"
    assert info.n_ctx == 8192 and info.n_vocab == 49152
    assert info.path.name == "smollm2-135m-instruct-q4_1.gguf"
    assert info.metadata["general.architecture"] == "llama"


@pytest.mark.model
def test_load_model_shares_one_instance(smol_model: LlamaModel) -> None:
    first = load_model("smollm2-135m", n_threads=1)
    assert isinstance(first, LlamaModel)
    assert load_model("SmolLM2-135M-Instruct", n_threads=1) is first
    assert load_model(str(first.info.path), n_threads=1) is first  # the same file by path


@pytest.mark.model
@pytest.mark.parametrize(
    "text", ["Hello, world!", "  leading spaces\n\ttabs", "Ünïcödé café 你好世界 😀", '{"name": "x", "arguments": {}}']
)
def test_tokenize_round_trip(smol_model: LlamaModel, text: str) -> None:
    tokens = smol_model.tokenize(text)
    assert tokens and all(isinstance(t, int) for t in tokens)
    assert smol_model.detokenize(tokens) == text


@pytest.mark.model
def test_special_tokens(smol_model: LlamaModel) -> None:
    [start] = smol_model.tokenize("<|im_start|>")
    assert len(smol_model.tokenize("<|im_start|>", special=False)) > 1
    assert smol_model.detokenize([start]) == "<|im_start|>"
    [end] = smol_model.tokenize("<|im_end|>")
    assert smol_model.is_end_of_generation(end)
    assert not smol_model.is_end_of_generation(start)
    assert not smol_model.is_end_of_generation(smol_model.tokenize("a")[0])


@pytest.mark.model
def test_max_tokens(smol_model: LlamaModel) -> None:
    completion = smol_model.generate(COUNT, GenerationOptions(max_tokens=4))
    assert completion.finish_reason == "length"
    assert len(completion.tokens) == 4
    assert smol_model.detokenize(completion.tokens) == completion.text
    assert completion.prompt_tokens == len(smol_model.tokenize(COUNT))
    assert completion.error is None


@pytest.mark.model
def test_greedy_is_deterministic_and_ends_at_eos(smol_model: LlamaModel) -> None:
    prompt = chat("Say hi.")
    first = smol_model.generate(prompt, GenerationOptions(max_tokens=64), reuse_prefix=False)
    second = smol_model.generate(prompt, GenerationOptions(max_tokens=64), reuse_prefix=False)
    assert first.text == second.text
    assert first.finish_reason == "stop"  # the end-of-generation token, which is not part of the text
    assert "<|im_end|>" not in first.text
    assert len(first.tokens) < 64


@pytest.mark.model
def test_stop_strings(smol_model: LlamaModel) -> None:
    full = smol_model.generate(COUNT, GenerationOptions(max_tokens=24))
    assert "3" in full.text
    stopped = smol_model.generate(COUNT, GenerationOptions(max_tokens=24, stop=["3", "never there"]))
    assert stopped.finish_reason == "stop"
    assert stopped.text == full.text[: full.text.index("3")]
    assert len(stopped.tokens) < len(full.tokens)


@pytest.mark.model
def test_stop_when(smol_model: LlamaModel) -> None:
    seen: list[str] = []

    def enough(text: str) -> bool:
        seen.append(text)
        return len(text) >= 6

    completion = smol_model.generate(COUNT, GenerationOptions(max_tokens=40), stop_when=enough)
    assert completion.finish_reason == "stop"
    assert len(completion.text) >= 6
    assert seen[-1] == completion.text
    assert all(len(text) < 6 for text in seen[:-1])
    assert len(seen) == len(completion.tokens)


@pytest.mark.model
def test_on_text_pieces_make_the_text(smol_model: LlamaModel) -> None:
    pieces: list[str] = []
    prompt = chat("Repeat exactly this text: café ñandú naïve 你好世界 😀")
    completion = smol_model.generate(prompt, GenerationOptions(max_tokens=30), on_text=pieces.append)
    assert "".join(pieces) == completion.text
    assert "你好世界" in completion.text and "😀" in completion.text
    assert "\ufffd" not in completion.text  # characters split across tokens are decoded whole
    assert all(pieces)
    assert len(pieces) < len(completion.tokens)  # tokens holding half a character produce no piece yet


@pytest.mark.model
def test_on_text_pieces_make_the_text_with_a_stop_string(smol_model: LlamaModel) -> None:
    prompt = chat("Say hello to me.")  # greedy: "I'm so glad you're here. ..."
    full = smol_model.generate(prompt, GenerationOptions(max_tokens=12), reuse_prefix=False)
    assert full.text.startswith("I'm so glad")
    pieces: list[str] = []
    stopped = smol_model.generate(
        prompt, GenerationOptions(max_tokens=12, stop=["lad"]), on_text=pieces.append, reuse_prefix=False
    )
    assert stopped.text == "I'm so g"
    assert "".join(pieces) == stopped.text  # streamed: "I'm so"


@pytest.mark.model
def test_prefix_reuse_and_forget_cache(smol_model: LlamaModel) -> None:
    prompt = chat("What is the capital of France?")
    options = GenerationOptions(max_tokens=2)
    smol_model.forget_cache()
    cold = smol_model.generate(prompt, options)
    assert cold.cached_tokens == 0
    warm = smol_model.generate(prompt, options)
    assert warm.cached_tokens == warm.prompt_tokens - 1  # the last prompt token is evaluated again for its logits
    assert warm.text == cold.text
    longer = smol_model.generate(prompt + "Paris", options)
    assert longer.cached_tokens == warm.prompt_tokens  # the whole shared prompt was kept
    other = smol_model.generate(chat("Name a colour."), options)
    assert 0 < other.cached_tokens < len(smol_model.tokenize("<|im_start|>user\n")) + 1
    assert smol_model.generate(prompt, options, reuse_prefix=False).cached_tokens == 0
    smol_model.forget_cache()
    after = smol_model.generate(prompt, options)
    assert after.cached_tokens == 0
    assert after.text == cold.text


@pytest.mark.model
def test_seeded_sampling_is_reproducible(smol_model: LlamaModel) -> None:
    # From the same cache state: a prompt evaluated in one batch and one whose last token alone is evaluated
    # again give slightly different logits (llama.cpp's batched kernels), which sampling can amplify.
    options = GenerationOptions(max_tokens=12, temperature=1.0, top_p=0.9, seed=7)
    first = smol_model.generate(COUNT, options, reuse_prefix=False)
    second = smol_model.generate(COUNT, options, reuse_prefix=False)
    assert first.text == second.text and first.tokens == second.tokens
    texts = {
        smol_model.generate(COUNT, options.model_copy(update={"seed": s}), reuse_prefix=False).text for s in range(4)
    }
    assert len(texts) > 1  # the seed matters


@pytest.mark.model
def test_generate_under_a_constraint(smol_model: LlamaModel) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
        "additionalProperties": False,
        "x-guidance": {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "},
    }
    constraint = GrammarConstraint(smol_model.constraint_tokenizer(), json_grammar(schema), smol_model.info.n_vocab)
    completion = smol_model.generate(
        chat("What is 2 + 2? Answer in JSON."), GenerationOptions(max_tokens=40), constraint=constraint
    )
    value = json.loads(completion.text)
    assert set(value) == {"answer"} and isinstance(value["answer"], int)
    assert completion.text.startswith('{"answer": ')
    assert completion.forced_tokens > 1  # '{"answer": ' is forced and evaluated in one batch
    assert completion.finish_reason in ("stop", "constraint")
    assert completion.error is None
    assert constraint.mask_calls > 0


@pytest.mark.model
def test_bad_prompts(smol_model: LlamaModel) -> None:
    with pytest.raises(ValueError, match="empty prompt"):
        smol_model.generate("")
    with pytest.raises(ValueError, match="does not fit the context"):
        smol_model.generate([smol_model.tokenize("a")[0]] * (smol_model.info.n_ctx + 1))
