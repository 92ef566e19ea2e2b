"""`UnsafeLocalSandbox`: the same kernel on the host with NO isolation.

The code can read every file this process can, reach the network, and see other processes. Only for users who
opt in explicitly (the CLI flag is `--unsafe-no-sandbox`), e.g. on a machine without bubblewrap, and as the
un-sandboxed baseline in benchmarks. It still gets rlimits (memory, processes, file size, open files), a wall-time
limit per run, an environment without our secrets, and a private temporary work folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from rixin.sandbox.base import Limits
from rixin.sandbox.files import WorkFolder
from rixin.sandbox.hosted import HostedSandbox
from rixin.sandbox.kernel import KernelCommand
from rixin.sandbox.limits import count_tasks, prlimit_argv
from rixin.sandbox.runtime import KERNEL_OPTIONS, SandboxRuntime


class UnsafeLocalSandbox(HostedSandbox):
    """A kernel on the host, unisolated (see the module docstring); only behind `--unsafe-no-sandbox`.

    Uses the sandbox runtime's Python when it is installed (same packages as `LocalSandbox`), else ours.
    """

    def __init__(
        self, limits: Limits | None = None, runtime: SandboxRuntime | None = None, image_dir: Path | None = None
    ) -> None:
        super().__init__(limits, image_dir)
        runtime = runtime or SandboxRuntime.resolve()
        installed = runtime.python.exists() and runtime.kernelspec.exists()
        python = str(runtime.python) if installed else sys.executable
        self.folder = Path(tempfile.mkdtemp(prefix=f"rixin-unsafe-{self.session_id}-"))
        folder = self.folder

        def cleanup() -> None:
            shutil.rmtree(folder, ignore_errors=True)

        try:
            for name in ("work", "home", "run", "tmp"):
                (folder / name).mkdir(mode=0o700)
            mplconfig = folder / "home/.config/matplotlib"
            if runtime.mplconfig.is_dir():
                shutil.copytree(runtime.mplconfig, mplconfig)
            if image_dir is None:
                self.image_dir = folder / "outputs"
            env = {
                "HOME": str(folder / "home"),
                "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "TMPDIR": str(folder / "tmp"),
                "MPLCONFIGDIR": str(mplconfig),
                "MALLOC_ARENA_MAX": "2",
                "OPENBLAS_NUM_THREADS": "2",
                "OMP_NUM_THREADS": "2",
            }
            # RLIMIT_NPROC counts every process of our uid (root ignores it altogether).
            nproc = self.limits.max_processes + count_tasks(os.getuid())
            if installed:
                kernel = runtime.kernel_argv()
            else:
                kernel = [python, "-m", "ipykernel_launcher", *KERNEL_OPTIONS, "-f", "{connection_file}"]
            prefix = prlimit_argv(self.limits, nproc)
            command = KernelCommand(
                # No reference to self in here (see LocalSandbox).
                argv=lambda connection: [*prefix, *(part.replace("{connection_file}", connection) for part in kernel)],
                env=env,
                cwd=str(folder / "work"),
                host_run_dir=folder / "run",
                kernel_run_dir=str(folder / "run"),
            )
        except BaseException:
            with contextlib.suppress(OSError):
                cleanup()
            raise
        self._start(command, WorkFolder(folder / "work", None, self.limits.max_file_mb << 20), cleanup)
