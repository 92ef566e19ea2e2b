"""The code interpreter's sandboxes: stateful Python sessions for model-written code.

`open_sandbox()` gives a bubblewrap-isolated session on this machine; `open_sandbox("gateway", gateway_url=...)`
one on a remote Jupyter Kernel Gateway; `unsafe=True` a kernel without isolation (explicit opt-in only).
`SandboxPool` keeps sessions warm. See `base.py` for the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rixin.sandbox.base import (
    Limits,
    RunError,
    RunResult,
    Sandbox,
    SandboxError,
    SandboxFileError,
    SandboxUnavailableError,
    safe_relative_path,
)
from rixin.sandbox.local import LocalSandbox
from rixin.sandbox.pool import SandboxPool
from rixin.sandbox.runtime import SandboxRuntime
from rixin.sandbox.unsafe import UnsafeLocalSandbox

if TYPE_CHECKING:
    from rixin.sandbox.gateway import GatewaySandbox

__all__ = [
    "GatewaySandbox",
    "Limits",
    "LocalSandbox",
    "RunError",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxFileError",
    "SandboxPool",
    "SandboxRuntime",
    "SandboxUnavailableError",
    "UnsafeLocalSandbox",
    "open_sandbox",
    "safe_relative_path",
]


def open_sandbox(
    kind: str = "local",
    *,
    limits: Limits | None = None,
    gateway_url: str | None = None,
    unsafe: bool = False,
    image_dir: Path | None = None,
) -> Sandbox:
    """Start one session. kind "local": bubblewrap here (SandboxUnavailableError where it cannot isolate;
    `unsafe=True` runs the kernel bare instead, for `--unsafe-no-sandbox` only); kind "gateway": a remote
    Jupyter Kernel Gateway at `gateway_url`."""
    if kind == "gateway":
        if not gateway_url:
            raise SandboxError('open_sandbox("gateway") needs gateway_url')
        from rixin.sandbox.gateway import GatewaySandbox

        return GatewaySandbox(gateway_url, limits=limits, image_dir=image_dir)
    if kind != "local":
        raise SandboxError(f"unknown sandbox kind {kind!r} (expected 'local' or 'gateway')")
    if unsafe:
        return UnsafeLocalSandbox(limits, image_dir=image_dir)
    return LocalSandbox(limits, image_dir=image_dir)


def __getattr__(name: str) -> object:
    # GatewaySandbox pulls in websockets; import it only when asked for.
    if name == "GatewaySandbox":
        from rixin.sandbox.gateway import GatewaySandbox

        return GatewaySandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
