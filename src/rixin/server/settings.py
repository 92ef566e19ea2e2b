"""The server's settings: given to `create_app`, never read from the environment at import time."""

from __future__ import annotations

from dataclasses import dataclass

from rixin.errors import RixinError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MIB = 1024 * 1024


class ServerConfigError(RixinError):
    """Settings the server refuses to start with."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    model: str | None = None
    """A `--model` value (embedded name, GGUF path, or endpoint URL#NAME); None: the default embedded model."""
    db: str | None = None
    """A `--db` value (SQLAlchemy URL or a SQLite path); None: `~/.local/share/rixin/rixin.db`."""
    no_auth: bool = False
    """Local no-auth mode: requests without a key are served (as the owner "local"); loopback hosts only."""
    queue_size: int = 16
    """Requests that may wait for the model beyond those being served; more get 429."""
    concurrency: int | None = None
    """Generations at once: 1 for an embedded model (it has one context); default 8 for an endpoint."""
    retry_after_s: int = 2
    max_body_bytes: int = 8 * MIB
    max_file_bytes: int = 64 * MIB
    default_max_tokens: int = 1024
    threads: int | None = None
    """llama.cpp threads for an embedded model (None: RIXIN_THREADS, else every core)."""
    sandbox_gateway: str | None = None
    """Run the code interpreter on this Jupyter Kernel Gateway instead of local bubblewrap sessions."""
    unsafe_no_sandbox: bool = False
    """UNSAFE: the code interpreter runs model-written code on this machine without isolation."""
    code_timeout_s: float = 60.0

    def check(self) -> None:
        if self.no_auth and self.host not in LOOPBACK_HOSTS:
            raise ServerConfigError(
                f"--no-auth serves anyone who can connect, so it binds only to 127.0.0.1 or localhost, "
                f"not {self.host!r}; create a key with `rixin keys create NAME` instead"
            )
        if self.queue_size < 0:
            raise ServerConfigError("the queue size cannot be negative")
        if self.concurrency is not None and self.concurrency < 1:
            raise ServerConfigError("concurrency must be at least 1")
        if self.max_body_bytes < 1024 or self.max_file_bytes < 1024:
            raise ServerConfigError("body size limits must be at least 1 KiB")
