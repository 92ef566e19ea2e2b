"""The embedded runtime: a GGUF model on llama-cpp-python with our own decoding loop.

We drive llama.cpp token by token instead of calling `create_chat_completion`, because the function-calling
engine needs three things that API does not give together: a token-level constraint hook (llguidance masks),
fast-forwarding of tokens the constraint forces, and explicit reuse of the KV cache for a shared prefix.
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rixin.errors import ModelIntegrityError, ModelNotFoundError
from rixin.types import GenerationOptions

Logits = npt.NDArray[np.float32]


class TokenConstraint(Protocol):
    """A token-level constraint (implemented over llguidance by the function-calling engine)."""

    def forced_tokens(self) -> list[int]:
        """Tokens that must come next whatever the model prefers (may be empty)."""

    def mask(self, logits: Logits) -> None:
        """Set the logits of every token the constraint forbids now to -inf, in place."""

    def accept(self, token: int) -> bool:
        """Advance over a generated token; False when the token violates the constraint."""

    def is_finished(self) -> bool:
        """True when the constraint admits nothing more (generation should stop)."""


@dataclass
class Completion:
    text: str
    tokens: list[int]
    finish_reason: str  # "stop" | "length" | "constraint"
    prompt_tokens: int
    cached_tokens: int
    """How many prompt tokens were already in the KV cache (prefix reuse)."""
    prompt_seconds: float
    generation_seconds: float
    forced_tokens: int = 0
    error: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    architecture: str
    chat_template: str | None
    bos_token: str
    eos_token: str
    n_ctx: int
    n_vocab: int
    metadata: dict[str, str]
    adapter: Path | None = None
    """The LoRA adapter applied, if any."""


class LlamaModel:
    """One GGUF model held in memory. Generation is serialised by a lock: llama.cpp contexts are not
    re-entrant, and one context holds one KV cache."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_batch: int = 512,
        lora_path: str | Path | None = None,
    ) -> None:
        """`lora_path`: a LoRA adapter as GGUF (llama.cpp's `convert_lora_to_gguf.py` writes one), applied at
        full scale to every generation."""
        from llama_cpp import Llama

        path = Path(path)
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF file not found: {path}")
        threads = n_threads or os.cpu_count() or 1
        if lora_path is not None:
            with open(lora_path, "rb") as adapter:  # llama.cpp reports a file it cannot read only in its log
                if adapter.read(4) != b"GGUF":
                    raise ModelIntegrityError(f"not a GGUF file, so not a LoRA adapter llama.cpp loads: {lora_path}")
        self._llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=n_batch,
            lora_path=str(lora_path) if lora_path is not None else None,
            verbose=False,
        )
        if lora_path is not None and not getattr(self._llm, "_lora_adapter", True):
            # llama-cpp-python tests its NULL adapter against None, so a file llama.cpp rejected passes silently.
            raise ModelIntegrityError(f"llama.cpp could not load {lora_path} as a LoRA adapter for {path.name}")
        metadata = {str(k): str(v) for k, v in self._llm.metadata.items()}
        self._n_vocab = int(self._llm.n_vocab())
        self.info = ModelInfo(
            name=name or metadata.get("general.name", path.stem),
            path=path,
            architecture=metadata.get("general.architecture", "unknown"),
            chat_template=metadata.get("tokenizer.chat_template"),
            bos_token=self._piece(self._llm.token_bos()),
            eos_token=self._piece(self._llm.token_eos()),
            n_ctx=self._llm.n_ctx(),
            n_vocab=self._n_vocab,
            metadata=metadata,
            adapter=Path(lora_path) if lora_path is not None else None,
        )
        self.lock = threading.Lock()
        self._llg_tokenizer: Any = None

    @property
    def name(self) -> str:
        return self.info.name

    # -- tokens -------------------------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        """Tokens of `text` without an added BOS (chat templates write their own)."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return bytes(self._llm.detokenize(list(tokens), special=True)).decode("utf-8", errors="replace")

    def _piece(self, token: int) -> str:
        return self.detokenize([token]) if token >= 0 else ""

    def is_end_of_generation(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token))

    def constraint_tokenizer(self) -> Any:
        """The llguidance tokenizer for this vocabulary (built once: it takes about a second)."""
        if self._llg_tokenizer is None:
            from llguidance.llamacpp import lltokenizer_from_vocab

            # Every end-of-generation token counts as EOS: Qwen ends a tool-call turn with <|endoftext|>
            # as often as with <|im_end|>, and a grammar that allows only one of them forces a wrong token.
            eog = [t for t in range(self._n_vocab) if self.is_end_of_generation(t)]
            self._llg_tokenizer = lltokenizer_from_vocab(self._llm._model.vocab, eos_token=eog or None)
        return self._llg_tokenizer

    # -- the KV cache ---------------------------------------------------------------------------------------
    def forget_cache(self) -> None:
        """Drop the KV cache so the next prompt is evaluated from scratch (used to measure prefix reuse)."""
        self._llm.reset()  # type: ignore[no-untyped-call]

    def _evaluate(self, tokens: list[int], *, reuse_prefix: bool) -> int:
        """Make the KV cache hold exactly `tokens` with the logits of the last one ready; returns how many
        tokens were reused from the cache (llama-cpp-python records the cached tokens in `input_ids`)."""
        keep = 0
        if reuse_prefix:
            cached = self._llm.input_ids[: self._llm.n_tokens]
            limit = min(len(cached), len(tokens) - 1)  # re-evaluate at least one token for its logits
            if limit > 0:
                differ = np.flatnonzero(cached[:limit] != np.asarray(tokens[:limit]))
                keep = int(differ[0]) if len(differ) else limit
        self._llm.n_tokens = keep  # eval() drops every cached position from n_tokens on
        self._llm.eval(tokens[keep:])
        return keep

    def _append(self, tokens: list[int]) -> None:
        self._llm.eval(tokens)

    def create_chat_completion(self, **kwargs: Any) -> Any:
        """llama-cpp-python's own `create_chat_completion` on this model: what a user gets without rixin
        (the benchmark's baseline). Shares the lock and the KV cache with `generate`."""
        with self.lock:
            return self._llm.create_chat_completion(**kwargs)

    def _last_logits(self) -> Logits:
        pointer = self._llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).copy()

    # -- generation -----------------------------------------------------------------------------------------
    def generate(
        self,
        prompt: str | Sequence[int],
        options: GenerationOptions | None = None,
        *,
        constraint: TokenConstraint | None = None,
        on_text: Callable[[str], None] | None = None,
        stop_when: Callable[[str], bool] | None = None,
        reuse_prefix: bool = True,
    ) -> Completion:
        """Continue `prompt`. Stops at an end-of-generation token, a stop string, `max_tokens`, or when the
        constraint is finished, or when `stop_when(text so far)` is true. `on_text` receives each new piece of
        text as it is decoded."""
        options = options or GenerationOptions()
        prompt_tokens = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        if not prompt_tokens:
            raise ValueError("empty prompt")
        budget = self.info.n_ctx - len(prompt_tokens)
        if budget <= 0:
            raise ValueError(f"prompt of {len(prompt_tokens)} tokens does not fit the context ({self.info.n_ctx})")
        max_tokens = min(options.max_tokens, budget)
        rng = np.random.default_rng(options.seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

        with self.lock:
            started = time.perf_counter()
            cached = self._evaluate(prompt_tokens, reuse_prefix=reuse_prefix)
            prompt_done = time.perf_counter()
            generated: list[int] = []
            text = ""
            streamed = 0  # how much of `text` went to on_text
            hit_stop = False
            finish = "length"
            forced_count = 0
            error: str | None = None
            while len(generated) < max_tokens:
                if constraint is not None:
                    if constraint.is_finished():
                        finish = "constraint"
                        break
                    forced = constraint.forced_tokens()[: max_tokens - len(generated)]
                    if len(forced) > 1:
                        # Tokens the grammar forces are evaluated in one batch instead of one by one.
                        for token in forced:
                            constraint.accept(token)
                        generated.extend(forced)
                        forced_count += len(forced)
                        text += decoder.decode(bytes(self._llm.detokenize(forced, special=True)))
                        if on_text and len(text) > streamed:
                            on_text(text[streamed:])
                            streamed = len(text)
                        self._append(forced)
                        continue
                logits = self._last_logits()
                if constraint is not None:
                    constraint.mask(logits)
                token = _sample(logits, options, rng)
                if token < 0:
                    finish, error = "constraint", "the constraint left no token to choose"
                    break
                if self.is_end_of_generation(token):
                    finish = "stop"
                    break
                if constraint is not None and not constraint.accept(token):
                    finish, error = "constraint", f"token {token} rejected by the constraint"
                    break
                generated.append(token)
                text += decoder.decode(bytes(self._llm.detokenize([token], special=True)))
                stop_at = _find_stop(text, options.stop)
                if stop_at is not None:
                    text, finish, hit_stop = text[:stop_at], "stop", True
                    break
                if on_text:
                    # Hold back what could still become a stop string, so the stream never shows it.
                    safe = len(text) - _pending_stop(text, options.stop)
                    if safe > streamed:
                        on_text(text[streamed:safe])
                        streamed = safe
                if constraint is not None and constraint.is_finished():
                    finish = "constraint"
                    break
                if stop_when is not None and stop_when(text):
                    finish = "stop"
                    break
                if len(generated) < max_tokens:  # the last token's logits would never be used
                    self._append([token])
            if not hit_stop:
                text += decoder.decode(b"", final=True)
            if on_text and len(text) > streamed:
                on_text(text[streamed:])
            ended = time.perf_counter()
        return Completion(
            text=text,
            tokens=generated,
            finish_reason=finish,
            prompt_tokens=len(prompt_tokens),
            cached_tokens=cached,
            prompt_seconds=prompt_done - started,
            generation_seconds=ended - prompt_done,
            forced_tokens=forced_count,
            error=error,
        )


def _sample(logits: Logits, options: GenerationOptions, rng: np.random.Generator) -> int:
    """Greedy at temperature 0, else temperature + nucleus sampling. -1 when every token is masked."""
    best = int(np.argmax(logits))
    if not np.isfinite(logits[best]):
        return -1
    if options.temperature <= 0:
        return best
    scaled = (logits - logits[best]) / options.temperature
    probs = np.exp(scaled, dtype=np.float64)
    probs /= probs.sum()
    if options.top_p < 1.0:
        order = np.argsort(-probs)
        cumulative = np.cumsum(probs[order])
        cut = int(np.searchsorted(cumulative, options.top_p)) + 1
        keep = order[:cut]
        probs = probs[keep] / probs[keep].sum()
        return int(keep[rng.choice(len(keep), p=probs)])
    return int(rng.choice(len(probs), p=probs))


def _pending_stop(text: str, stops: Sequence[str]) -> int:
    """Length of the longest end of `text` that is the start of a stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


def _find_stop(text: str, stops: Sequence[str]) -> int | None:
    positions = [text.find(stop) for stop in stops if stop]
    found = [p for p in positions if p >= 0]
    return min(found) if found else None
