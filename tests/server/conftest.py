"""Server fixtures: a store in a temp folder with two API keys; servers run in a thread under real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rixin.store import Store, open_store

SUMMARY = pytest.StashKey[list[str]]()
"""Lines a test wants in the terminal summary (e.g. how many cases schemathesis tried)."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)


@dataclass(frozen=True)
class Keys:
    alice: str
    bob: str
    alice_id: str
    bob_id: str


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'rixin.db'}")
    yield store
    store.close()


@pytest.fixture(scope="module")
def keys(module_store: Store) -> Keys:
    alice, alice_secret = module_store.create_key("alice")
    bob, bob_secret = module_store.create_key("bob")
    return Keys(alice_secret, bob_secret, alice.id, bob.id)


@pytest.fixture
def tmp_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rixin.db'}"
