"""How `Limits` become kernel-enforced limits on this machine: rlimits (through `prlimit`, set before the uid
switch so the code cannot raise them), cgroup v1 memory and pids groups where writable, and a size-capped tmpfs
for the session's writable folders where we may mount one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from rixin.sandbox.base import Limits

CGROUP_V1 = Path("/sys/fs/cgroup")
CGROUP_PARENT = "rixin"
NPROC_PER_SESSION_FACTOR = 16
"""With a pids cgroup per session, RLIMIT_NPROC (counted over *all* sessions of the uid) is only a backstop."""
_MiB = 1 << 20


def prlimit_argv(limits: Limits, nproc: int) -> list[str]:
    """`prlimit` options for one session: soft = hard, so the code can lower them but never raise them."""
    return [
        "prlimit",
        f"--as={limits.memory_mb * _MiB}",
        f"--nproc={nproc}",
        f"--fsize={limits.max_file_mb * _MiB}",
        f"--nofile={NOFILE}",
        "--core=0",
        "--",
    ]


NOFILE = 1024
"""Open files per process: ipykernel needs a few dozen; 1024 stops descriptor exhaustion games."""


def count_tasks(uid: int) -> int:
    """Threads of every process of `uid` (what RLIMIT_NPROC counts)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid:
                total += len(os.listdir(f"/proc/{entry.name}/task"))
    return total


@dataclass
class Cgroups:
    """The session's cgroup v1 memory and pids groups, for those controllers we may write to (root here)."""

    session_id: str
    paths: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(cls, session_id: str, limits: Limits) -> Cgroups:
        groups = cls(session_id)
        wanted = {
            "memory": {"memory.limit_in_bytes": limits.memory_mb * _MiB, "memory.swappiness": 0},
            "pids": {"pids.max": limits.max_processes},
        }
        for controller, settings in wanted.items():
            path = CGROUP_V1 / controller / CGROUP_PARENT / session_id
            try:
                path.mkdir(parents=True)
                for name, value in settings.items():
                    with contextlib.suppress(OSError):  # memory.swappiness is refused on some kernels: optional
                        (path / name).write_text(str(value))
                    if name.endswith(("limit_in_bytes", ".max")) and (path / name).read_text().strip() != str(value):
                        raise OSError(f"{name} did not take")
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            groups.paths[controller] = path
        return groups

    @classmethod
    def existing(cls, session_id: str) -> Cgroups:
        """The groups a session (perhaps of a dead process) left behind."""
        groups = cls(session_id)
        for controller in ("memory", "pids"):
            path = CGROUP_V1 / controller / CGROUP_PARENT / session_id
            if path.is_dir():
                groups.paths[controller] = path
        return groups

    def shell_prefix(self) -> list[str]:
        """A `sh -c` wrapper that joins the groups and then execs the rest: children can never start outside."""
        if not self.paths:
            return []
        joins = " && ".join(f'echo $$ > "{path}/cgroup.procs"' for path in self.paths.values())
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "rixin-sandbox"]

    def _members(self) -> list[int]:
        pids: list[int] = []
        for path in self.paths.values():
            with contextlib.suppress(OSError, ValueError):
                pids += [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
        return pids

    def drain(self, timeout_s: float = 5.0) -> None:
        """SIGKILL every process in the groups and wait until they are gone: a restart in a pids group still full
        of a dying fork bomb would fail."""
        deadline = time.monotonic() + timeout_s
        while (members := self._members()) and time.monotonic() < deadline:
            for pid in members:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Empty the groups and remove them. Idempotent."""
        self.drain()
        for controller, path in list(self.paths.items()):
            for _ in range(50):  # an exiting process may linger for a moment after it left cgroup.procs
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            self.paths.pop(controller)


_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return _libc


def mount_tmpfs(target: Path, size_mb: int, owner: tuple[int, int]) -> bool:
    """Mount a size-capped tmpfs on `target` (mode 0700, owned by `owner`); False where we may not mount."""
    options = f"size={size_mb}m,mode=0700,uid={owner[0]},gid={owner[1]},nr_inodes=100k".encode()
    flags = 0x2 | 0x4  # MS_NOSUID | MS_NODEV (exec stays: code may legitimately run a script it wrote)
    return bool(_lib().mount(b"tmpfs", str(target).encode(), b"tmpfs", flags, options) == 0)


def unmount(target: Path) -> None:
    """Detach the mount even if something still holds it open (MNT_DETACH)."""
    if _lib().umount2(str(target).encode(), 2) != 0:
        errno = ctypes.get_errno()
        if errno not in (22, 2):  # EINVAL: not a mount point (already gone); ENOENT
            raise OSError(errno, os.strerror(errno), str(target))
