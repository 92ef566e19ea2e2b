"""`LocalSandbox`: one bubblewrap sandbox per session on this machine.

Layout of a session (`<sandbox home>/sessions/<id>/`, 0700, owned by the sandbox user; `sessions/` is 0711 so
the user can enter a folder by name but list none):

    passwd, group   synthetic one-line files bound read-only on /etc/passwd and /etc/group
    outputs/        PNGs the kernel displayed (the default `image_dir`; outside anything the code can see)
    fs/             a tmpfs of `disk_mb` when we may mount (root); everything the code can write lives here:
      work/ -> /mnt/data (the working directory)    home/ -> /home/sandbox    tmp/ -> /tmp
    run/            a 1 MiB tmpfs -> /run/kernel: the connection file and IPC sockets (apart, so that a full
                    work folder can never stop the kernel from restarting; emptied before each start)

Inside: no network (empty network namespace), its own pid/ipc/uts/cgroup/user namespaces and no way to make
more, every capability dropped, a read-only root with read-only /usr, only the /etc files Python and fontconfig
need, the runtime venv and kernelspec folder read-only at their host paths, and an environment built from
nothing (the server's secrets never reach it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

from rixin.sandbox.base import Limits, SandboxError
from rixin.sandbox.files import WorkFolder
from rixin.sandbox.hosted import HostedSandbox
from rixin.sandbox.kernel import KernelCommand
from rixin.sandbox.limits import NPROC_PER_SESSION_FACTOR, Cgroups, count_tasks, mount_tmpfs, prlimit_argv, unmount
from rixin.sandbox.runtime import SandboxRuntime

SANDBOX_HOME = "/home/sandbox"
WORK_DIR = "/mnt/data"
RUN_DIR = "/run/kernel"
RUN_DIR_MB = 1
OWNER_FILE = "owner"
_ETC_FILES = ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/mime.types")
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib64", "/lib32")
_DEVICES = ("null", "zero", "full", "random", "urandom")


def sandbox_env(runtime: SandboxRuntime) -> dict[str, str]:
    """Everything the kernel's environment holds; nothing is inherited from ours."""
    threads = str(max(1, min(4, os.cpu_count() or 1)))
    env = {
        "HOME": SANDBOX_HOME,
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "PATH": f"{runtime.venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{SANDBOX_HOME}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        # RLIMIT_AS counts reserved address space: glibc's per-thread 64 MiB malloc arenas would eat it.
        "MALLOC_ARENA_MAX": "2",
    }
    # BLAS/OpenMP start one thread per core; on a big server that alone would exceed max_processes.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
        env[name] = threads
    return env


def bwrap_argv(runtime: SandboxRuntime, folder: Path, limits: Limits, mounted: bool) -> list[str]:
    """The bubblewrap command line of one session, up to the `--` before the kernel's own argv."""
    fs = folder / "fs"
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
    argv += ["--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]
    for name, value in sandbox_env(runtime).items():
        argv += ["--setenv", name, value]
    # /tmp first: a tmpfs or bind on /tmp placed later would hide anything bound beneath it (the venv may be).
    if mounted:
        argv += ["--bind", str(fs / "tmp"), "/tmp"]
    else:
        argv += ["--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for path in _MERGED_USR:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    argv += ["--ro-bind", str(folder / "passwd"), "/etc/passwd", "--ro-bind", str(folder / "group"), "/etc/group"]
    argv += ["--ro-bind", str(runtime.venv), str(runtime.venv)]
    argv += ["--ro-bind", str(runtime.kernelspec.parent), str(runtime.kernelspec.parent), "--proc", "/proc"]
    # A hand-made /dev instead of --dev: --dev mounts a devpts, for which bwrap maps the user onto root of an
    # intermediate namespace; without it the uid maps 1:1 and there is no pty to play with.
    argv += ["--size", str(1 << 20), "--tmpfs", "/dev"]
    for device in _DEVICES:
        argv += ["--dev-bind", f"/dev/{device}", f"/dev/{device}"]
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        argv += ["--symlink", f"/proc/self/fd/{number}", f"/dev/{name}"]
    argv += ["--symlink", "/proc/self/fd", "/dev/fd", "--dir", "/dev/shm", "--remount-ro", "/dev"]
    argv += ["--size", str(min(limits.disk_mb, 64) << 20), "--tmpfs", "/dev/shm"]  # multiprocessing semaphores
    argv += ["--bind", str(fs / "home"), SANDBOX_HOME, "--bind", str(folder / "run"), RUN_DIR]
    argv += ["--bind", str(fs / "work"), WORK_DIR, "--chdir", WORK_DIR]
    argv += ["--remount-ro", "/"]  # bwrap's root is a tmpfs the code could otherwise fill (/etc, /var, ...)
    return argv


class LocalSandbox(HostedSandbox):
    """A stateful Python session isolated with bubblewrap (see the module docstring for what it sees).

    As root, the session runs as the unprivileged `rixin-sandbox` user, inside cgroup v1 memory and pids groups,
    with its writable folders on a tmpfs of `limits.disk_mb`. Without root it runs as ourselves with rlimits only
    and the disk limit is checked after each run (`disk_enforcement` says which applies). Raises
    SandboxUnavailableError where bubblewrap cannot isolate: code is never run bare.
    """

    def __init__(
        self, limits: Limits | None = None, runtime: SandboxRuntime | None = None, image_dir: Path | None = None
    ) -> None:
        super().__init__(limits, image_dir)
        self.runtime = runtime = runtime or SandboxRuntime.resolve()
        runtime.check()
        limits = self.limits
        user = runtime.user if os.geteuid() == 0 else None
        owner = (user.uid, user.gid) if user else None
        ids = owner or (os.getuid(), os.getgid())

        self.folder = folder = runtime.sessions / self.session_id
        runtime.sessions.mkdir(mode=0o711, parents=True, exist_ok=True)
        sweep_stale_sessions(runtime)
        folder.mkdir(mode=0o700)
        fs, run = folder / "fs", folder / "run"
        cleanup = _Cleanup(folder)
        try:
            (folder / OWNER_FILE).write_text(_process_identity(os.getpid()) or "")
            if owner:
                os.chown(folder, *owner)
            fs.mkdir(mode=0o700)
            run.mkdir(mode=0o700)
            if owner and mount_tmpfs(fs, limits.disk_mb, owner):
                cleanup.mounts.append(fs)
                self.disk_enforcement = "tmpfs"
                if mount_tmpfs(run, RUN_DIR_MB, owner):
                    cleanup.mounts.append(run)
            for name in ("work", "home", "tmp"):
                (fs / name).mkdir(mode=0o700)
            shutil.copytree(runtime.mplconfig, fs / "home/.config/matplotlib")
            if owner:
                for path in (fs, run, *fs.rglob("*")):
                    os.chown(path, *owner, follow_symlinks=False)
            (folder / "passwd").write_text(f"sandbox:x:{ids[0]}:{ids[1]}::{SANDBOX_HOME}:/usr/sbin/nologin\n")
            (folder / "group").write_text(f"sandbox:x:{ids[1]}:\n")
            if image_dir is None:
                self.image_dir = folder / "outputs"
            cgroups = cleanup.cgroups = Cgroups.create(self.session_id, limits) if owner else Cgroups(self.session_id)
            if "pids" in cgroups.paths:
                nproc = limits.max_processes * NPROC_PER_SESSION_FACTOR
            else:
                # RLIMIT_NPROC counts every process of the uid (other sessions', and ours when we are not root):
                # this session may add max_processes to what runs now.
                nproc = limits.max_processes + count_tasks(ids[0])
            self.limit_mechanisms = _describe(limits, cgroups, nproc, self.disk_enforcement)
            prefix = [*cgroups.shell_prefix(), *prlimit_argv(limits, nproc)]
            if owner:
                prefix += ["setpriv", f"--reuid={owner[0]}", f"--regid={owner[1]}", "--clear-groups", "--no-new-privs"]
            prefix += [*bwrap_argv(runtime, folder, limits, fs in cleanup.mounts), "--"]
            kernel = runtime.kernel_argv()
            command = KernelCommand(
                # No reference to self in here: the finalizer holds the kernel, and through it this closure.
                argv=lambda connection: [*prefix, *(part.replace("{connection_file}", connection) for part in kernel)],
                env=sandbox_env(runtime),
                cwd="/",
                host_run_dir=run,
                kernel_run_dir=RUN_DIR,
                owner=owner,
                on_kill=cgroups.drain,
            )
        except BaseException:
            cleanup()
            raise
        self._start(command, WorkFolder(fs / "work", owner, limits.max_file_mb << 20), cleanup)


_swept: set[Path] = set()
_sweep_lock = threading.Lock()


def sweep_stale_sessions(runtime: SandboxRuntime) -> None:
    """Once per process: remove sessions whose owning process is gone (a server killed with SIGKILL leaves
    its folders, tmpfs mounts and cgroups behind; its kernels died with it through --die-with-parent)."""
    with _sweep_lock:
        if runtime.sessions in _swept:
            return
        _swept.add(runtime.sessions)
    for entry in os.scandir(runtime.sessions):
        folder = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False) or not _is_stale(folder):
            continue
        cleanup = _Cleanup(folder)
        cleanup.cgroups = Cgroups.existing(entry.name)
        cleanup.mounts = [folder / "fs", folder / "run"]
        with contextlib.suppress(OSError, SandboxError):
            cleanup()


def _is_stale(folder: Path) -> bool:
    try:
        owner = (folder / OWNER_FILE).read_text().split()
    except FileNotFoundError:  # being created right now, unless it has been like this for an hour
        with contextlib.suppress(OSError):
            return time.time() - folder.stat().st_mtime > 3600
        return False
    except OSError:
        return False
    if len(owner) != 2 or not owner[0].isdigit():
        return True
    return _process_identity(int(owner[0])) != " ".join(owner)


def _process_identity(pid: int) -> str | None:
    """The pid and start time of a live process (the start time tells a reused pid apart), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{pid} {stat.rsplit(')', 1)[1].split()[19]}"


def _describe(limits: Limits, cgroups: Cgroups, nproc: int, disk: str) -> list[str]:
    """The limit mechanisms in force for a session, in words (for logs and the benchmark report)."""
    found = [
        f"RLIMIT_AS {limits.memory_mb} MiB per process",
        f"RLIMIT_NPROC {nproc} for the uid",
        f"RLIMIT_FSIZE {limits.max_file_mb} MiB",
        "RLIMIT_NOFILE",
    ]
    if "memory" in cgroups.paths:
        found.append(f"cgroup v1 memory {limits.memory_mb} MiB for the session")
    if "pids" in cgroups.paths:
        found.append(f"cgroup v1 pids {limits.max_processes} for the session")
    found.append(f"disk {limits.disk_mb} MiB: {disk}")
    return found


class _Cleanup:
    """Tears a session's host state down; holds no reference to the sandbox (it is part of its finalizer)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cgroups: Cgroups | None = None
        self.mounts: list[Path] = []

    def __call__(self) -> None:
        if self.cgroups is not None:
            self.cgroups.remove()
        while self.mounts:
            mount = self.mounts.pop()
            try:
                unmount(mount)
            except OSError as exc:
                raise SandboxError(f"could not unmount {mount}: {exc}") from exc
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)
