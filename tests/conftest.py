"""Shared fixtures: the embedded models, loaded once per test session.

`rixin.models.load_model` already caches per process; the session scope also keeps the calling engines (and
their llguidance tokenizers) alive across test modules.

The models run on one thread (RIXIN_TEST_THREADS overrides it). On the 2-core test machine, llama.cpp with two
threads slows down by two orders of magnitude as soon as any other process keeps a core busy (measured:
33 constrained tokens of SmolLM2 took 0.3 s on one thread and 38-53 s on two), while one thread costs
about 1.6x when the machine is idle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from rixin.calling import Engine
    from rixin.models import LlamaModel

QWEN = "qwen2.5-coder-0.5b"
SMOLLM = "smollm2-135m"
THREADS = int(os.environ.get("RIXIN_TEST_THREADS", "1"))


def pytest_configure(config: pytest.Config) -> None:
    # llguidance builds its tokenizer through a deprecated llama.cpp call, once per vocabulary entry
    # (about 200,000 warnings for the two models); recording each one slows the tests down for nothing.
    config.addinivalue_line("filterwarnings", "ignore:llama_token_get_attr is deprecated:DeprecationWarning")


def _load(name: str) -> LlamaModel:
    from rixin.models import LlamaModel, load_model

    model = load_model(name, n_threads=THREADS)
    assert isinstance(model, LlamaModel)
    return model


@pytest.fixture(scope="session")
def qwen_model() -> LlamaModel:
    return _load(QWEN)


@pytest.fixture(scope="session")
def smol_model() -> LlamaModel:
    return _load(SMOLLM)


@pytest.fixture(scope="session")
def qwen_engine(qwen_model: LlamaModel) -> Engine:
    from rixin.calling import Engine

    return Engine(qwen_model)


@pytest.fixture(scope="session")
def smol_engine(smol_model: LlamaModel) -> Engine:
    from rixin.calling import Engine

    return Engine(smol_model)
