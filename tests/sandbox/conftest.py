"""Fixtures for the sandbox tests. Nothing here skips: CI runs `make setup` first, so a missing runtime,
bubblewrap or sandbox user is a failure whose message says what to run."""

from __future__ import annotations

import pytest

from rixin.sandbox.base import SandboxUnavailableError
from rixin.sandbox.runtime import SandboxRuntime


@pytest.fixture(scope="session")
def sandbox_runtime() -> SandboxRuntime:
    runtime = SandboxRuntime.resolve()
    try:
        runtime.check()
    except SandboxUnavailableError as exc:
        pytest.fail(f"the sandbox cannot run here: {exc}", pytrace=False)
    return runtime
