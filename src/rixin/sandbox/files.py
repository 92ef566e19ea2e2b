"""The host side of a session's work folder, which hostile code controls: every access walks the path one
component at a time with O_NOFOLLOW (a symlink anywhere is refused, never followed), and only regular files are
read or written. We may be root here, so this is what keeps a planted symlink from reaching /etc/shadow.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from rixin.sandbox.base import SandboxFileError, safe_relative_path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_LISTED = 10_000
"""Files looked at per listing or snapshot; a run that creates more is not reported beyond this."""

Snapshot = dict[str, tuple[int, int]]


class WorkFolder:
    def __init__(self, root: Path, owner: tuple[int, int] | None = None, max_download_bytes: int = 256 << 20) -> None:
        self.root = root
        self.owner = owner
        """uid/gid that must own uploaded files (the sandbox user), or None to keep ours."""
        self.max_download_bytes = max_download_bytes

    @contextlib.contextmanager
    def _parent(self, name: str, create: bool) -> Iterator[tuple[int, str]]:
        """(fd of the parent folder, base name) for a checked relative name; no symlink is ever followed."""
        parts = safe_relative_path(name).split("/")
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for part in parts[:-1]:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                        if self.owner:
                            os.chown(part, *self.owner, dir_fd=fd, follow_symlinks=False)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise _file_error(name, exc) from exc
                os.close(fd)
                fd = child
            yield fd, parts[-1]
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes) -> str:
        normalised = safe_relative_path(name)
        with self._parent(normalised, create=True) as (parent, base):
            # Replace rather than truncate: the old entry may be a hard link, a FIFO or a symlink planted by the code.
            try:
                if stat.S_ISDIR(os.stat(base, dir_fd=parent, follow_symlinks=False).st_mode):
                    raise SandboxFileError(f"{name!r} is a folder in the work folder")
                os.unlink(base, dir_fd=parent)
            except FileNotFoundError:
                pass
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(base, flags, 0o644, dir_fd=parent)
            except OSError as exc:
                raise _file_error(name, exc) from exc
            try:
                with os.fdopen(fd, "wb") as handle:
                    if self.owner:
                        os.fchown(fd, *self.owner)
                    handle.write(data)
            except OSError as exc:  # e.g. the work folder's tmpfs is full: leave no partial file behind
                with contextlib.suppress(OSError):
                    os.unlink(base, dir_fd=parent)
                raise SandboxFileError(f"could not write {name!r}: {exc.strerror}") from exc
        return normalised

    def read(self, name: str) -> bytes:
        with self._parent(name, create=False) as (parent, base):
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            try:
                fd = os.open(base, flags, dir_fd=parent)
            except OSError as exc:
                raise _file_error(name, exc) from exc
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise SandboxFileError(f"{name!r} is not a regular file")
                if info.st_size > self.max_download_bytes:
                    raise SandboxFileError(f"{name!r} is larger than {self.max_download_bytes >> 20} MiB")
                with os.fdopen(os.dup(fd), "rb") as handle:
                    data = handle.read(self.max_download_bytes + 1)  # the file may still be growing
            finally:
                os.close(fd)
        if len(data) > self.max_download_bytes:
            raise SandboxFileError(f"{name!r} is larger than {self.max_download_bytes >> 20} MiB")
        return data

    def snapshot(self) -> Snapshot:
        """{relative path: (size, mtime_ns)} of the regular files; symlinks and special files are skipped."""
        found: Snapshot = {}
        stack = [""]
        while stack and len(found) < MAX_LISTED:
            relative = stack.pop()
            try:
                entries = list(os.scandir(self.root / relative if relative else self.root))
            except OSError:
                continue
            for entry in entries:
                path = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    stack.append(path)
                elif stat.S_ISREG(info.st_mode):
                    found[path] = (info.st_size, info.st_mtime_ns)
        return found

    def list(self) -> list[str]:
        return sorted(self.snapshot())

    def total_bytes(self) -> int:
        return sum(size for size, _ in self.snapshot().values())


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files created or modified between two snapshots, sorted."""
    return sorted(path for path, signature in after.items() if before.get(path) != signature)


def _file_error(name: str, exc: OSError) -> SandboxFileError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return SandboxFileError(f"{name!r} goes through a symlink or a non-folder; refused")
    if exc.errno == errno.ENOENT:
        return SandboxFileError(f"{name!r} does not exist in the work folder")
    return SandboxFileError(f"{name!r}: {exc.strerror}")
