"""The contract every sandbox implementation keeps: stateful Python sessions that run hostile code.

A `Sandbox` is one session: a Python kernel whose variables survive between `run` calls, with a private work
folder that files go in and out of. Implementations: `LocalSandbox` (bubblewrap on this machine),
`GatewaySandbox` (a remote Jupyter Kernel Gateway) and `UnsafeLocalSandbox` (no isolation; only behind a flag
whose name says so). Failures of the *code* come back as data in `RunResult.error`; failures of the *sandbox*
(it cannot start, it died) raise `SandboxError`.
"""

from __future__ import annotations

import abc
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from rixin.errors import RixinError


class SandboxError(RixinError):
    """The sandbox itself failed: it could not start, its kernel died, or it was used after close()."""


class SandboxUnavailableError(SandboxError):
    """Isolation is not possible here (for example bubblewrap is missing); code is refused, never run bare."""


class SandboxFileError(SandboxError):
    """A bad file name (absolute, '..', a symlink out of the work folder), a missing file, or one too big."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one session. Every run is bounded by `timeout_s` (interrupt, then kill)."""

    timeout_s: float = 60.0
    """Wall time of one run; past it the kernel is interrupted, and killed and restarted if that fails."""
    memory_mb: int = 2048
    """Memory of the whole session (address-space rlimit per process, plus a cgroup where one is writable)."""
    max_processes: int = 64
    """Processes and threads the sandbox user may have (RLIMIT_NPROC; plus a pids cgroup where writable)."""
    max_file_mb: int = 256
    """Largest single file the code may write (RLIMIT_FSIZE)."""
    disk_mb: int = 512
    """Total size of the work folder (a tmpfs of this size)."""
    max_output_chars: int = 100_000
    """stdout/stderr/display text kept per run; the rest is cut with a note (`RunResult.truncated`)."""
    idle_timeout_s: float = 900.0
    """A session unused this long is closed by its pool."""


@dataclass
class RunError:
    """An exception raised by the code: its type, message and the formatted traceback (no ANSI colours)."""

    name: str
    value: str
    traceback: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value, "traceback": self.traceback}


@dataclass
class RunResult:
    """What one `Sandbox.run` produced."""

    stdout: str = ""
    stderr: str = ""
    error: RunError | None = None
    results: list[str] = field(default_factory=list)
    """text/plain of execute_result and display_data outputs, in order (e.g. the value of the last line)."""
    images: list[Path] = field(default_factory=list)
    """PNG outputs the kernel displayed (e.g. plt.show()), saved as files on the host."""
    files: list[str] = field(default_factory=list)
    """Work-folder files (relative paths) created or modified by this run."""
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        return {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "error": self.error.to_dict() if self.error else None,
            "results": self.results,
            "images": [str(path) for path in self.images],
            "files": self.files,
            "timed_out": self.timed_out,
            "truncated": self.truncated,
            "duration_s": round(self.duration_s, 4),
        }


def safe_relative_path(name: str) -> str:
    """Normalise a work-folder file name; raise SandboxFileError for absolute paths, '..' and empty names."""
    if not name or "\x00" in name:
        raise SandboxFileError(f"invalid file name {name!r}")
    if name.startswith(("/", "\\")):
        raise SandboxFileError(f"file name {name!r} must be relative to the work folder")
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if normalised in (".", "") or normalised == ".." or normalised.startswith("../"):
        raise SandboxFileError(f"file name {name!r} leaves the work folder")
    return normalised


class Sandbox(abc.ABC):
    """One stateful, isolated Python session. Thread-safe for one run at a time; `interrupt` may come from
    another thread while `run` is in progress."""

    session_id: str
    limits: Limits

    @abc.abstractmethod
    def run(self, code: str, timeout_s: float | None = None) -> RunResult:
        """Execute `code` in the session's kernel. Never raises for errors in the code (see RunResult.error);
        a run past its timeout is interrupted (`timed_out=True`) and the session stays usable, restarted with
        fresh state if the interrupt did not stop it (then `error.name == "SessionRestarted"`)."""

    @abc.abstractmethod
    def upload(self, name: str, data: bytes) -> str:
        """Write `data` to the work-folder path `name` (parents created); returns the normalised name."""

    @abc.abstractmethod
    def download(self, name: str) -> bytes:
        """Read a regular file from the work folder; symlinks and paths outside the folder are refused."""

    @abc.abstractmethod
    def list_files(self) -> list[str]:
        """Relative paths of the regular files in the work folder, sorted."""

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Stop the run in progress (KeyboardInterrupt in the kernel); state is kept."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the kernel and remove the session's folders. Idempotent."""

    def upload_file(self, source: Path | str, name: str | None = None) -> str:
        """Copy a host file into the work folder (under its own base name unless `name` is given)."""
        source = Path(source)
        return self.upload(name or source.name, source.read_bytes())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
