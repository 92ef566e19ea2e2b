"""Where the sandbox runtime lives (the kernel's venv, kernelspec, matplotlib template, session folders) and
whether this machine can run it. Resolved at call time, never at import, so tests and servers may set
`RIXIN_SANDBOX_HOME` late. `scripts/setup_sandbox.sh` builds what this describes.

`python -m rixin.sandbox --verify` starts one sandboxed kernel and checks the packages and the CJK font.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rixin.sandbox.base import SandboxUnavailableError

SANDBOX_USER = "rixin-sandbox"
SETUP_HINT = "run `make setup` (or scripts/setup_sandbox.sh)"
KERNEL_NAME = "rixin"
KERNEL_OPTIONS = ("--HistoryManager.hist_file=:memory:",)
"""ipykernel options (added to the kernelspec's argv when missing): IPython's history in memory, not in a SQLite
file in $HOME, which a full work folder breaks (loudly, into the user's output)."""


@dataclass(frozen=True)
class SandboxUser:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class SandboxRuntime:
    home: Path
    user: SandboxUser | None
    """The unprivileged account sessions run as; None when we are not root (then they run as ourselves)."""

    @classmethod
    def resolve(cls) -> SandboxRuntime:
        override = os.environ.get("RIXIN_SANDBOX_HOME")
        if override:
            home = Path(override)
        elif os.geteuid() == 0:
            home = Path("/var/lib/rixin-sandbox")
        else:
            home = Path.home() / ".cache" / "rixin" / "sandbox"
        user = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(SANDBOX_USER)
            except KeyError:
                entry = None
            if entry is not None:
                user = SandboxUser(SANDBOX_USER, entry.pw_uid, entry.pw_gid)
        return cls(home=home, user=user)

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def kernelspec(self) -> Path:
        return self.home / "kernels" / KERNEL_NAME / "kernel.json"

    @property
    def mplconfig(self) -> Path:
        """matplotlibrc and the pre-built font cache, copied into every session's MPLCONFIGDIR."""
        return self.home / "mplconfig"

    @property
    def sessions(self) -> Path:
        return self.home / "sessions"

    def kernel_argv(self) -> list[str]:
        """The kernelspec's argv with `{connection_file}` still in it."""
        spec = json.loads(self.kernelspec.read_text())
        if spec.get("interrupt_mode") != "message":
            raise SandboxUnavailableError(f'{self.kernelspec} must say "interrupt_mode": "message"; {SETUP_HINT}')
        argv = [str(part) for part in spec["argv"]]
        at = argv.index("-f") if "-f" in argv else len(argv)
        return argv[:at] + [option for option in KERNEL_OPTIONS if option not in argv] + argv[at:]

    def check_installed(self) -> None:
        """The runtime files exist (enough for the unsafe, un-isolated kernel too)."""
        missing = [p for p in (self.python, self.kernelspec, self.mplconfig / "matplotlibrc") if not p.exists()]
        if missing:
            raise SandboxUnavailableError(
                f"the sandbox runtime is missing ({', '.join(map(str, missing))}); {SETUP_HINT}"
            )
        if os.geteuid() == 0 and self.user is None:
            raise SandboxUnavailableError(f"the system user {SANDBOX_USER!r} does not exist; {SETUP_HINT}")

    def check(self) -> None:
        """Raise SandboxUnavailableError with what to do, unless isolated sessions can start here."""
        bwrap_problem = bwrap_unusable()
        if bwrap_problem:
            raise SandboxUnavailableError(bwrap_problem)
        self.check_installed()


@cache
def bwrap_unusable() -> str | None:
    """Why bubblewrap cannot isolate code here, or None. Tried once per process (a few milliseconds)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed: install bubblewrap (apt-get install bubblewrap, or `make setup`)"
    for tool in ("setpriv", "prlimit"):
        if os.geteuid() == 0 and shutil.which(tool) is None:
            return f"{tool} is missing: install util-linux"
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    user = SandboxRuntime.resolve().user
    if os.geteuid() == 0 and user is not None:
        # Probe as the account sessions really use: user namespaces may be allowed for root only.
        probe = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", *probe]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run ({exc}): install bubblewrap and enable user namespaces"
    if done.returncode != 0:
        return (
            f"bubblewrap cannot create a sandbox here ({done.stderr.strip() or done.returncode}): install bubblewrap "
            "and enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            "user.max_user_namespaces > 0)"
        )
    return None


def verify() -> int:
    """Start one sandboxed kernel, import every package and check the CJK font; 0 when all is well."""
    from rixin.sandbox.local import LocalSandbox

    code = (
        "import numpy, pandas, geopandas, shapely, pyogrio, pyproj, matplotlib, matplotlib.pyplot as plt\n"
        "from matplotlib import font_manager\n"
        "font = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams['font.sans-serif']))\n"
        "print(matplotlib.get_backend(), font)\n"
    )
    with LocalSandbox() as sandbox:
        result = sandbox.run(code, timeout_s=120)
    if not result.ok or "wqy" not in result.stdout.lower():
        print(f"sandbox verification failed: {result.to_dict()}", file=sys.stderr)
        return 1
    print(f"sandbox verified: {result.stdout.strip()} ({result.duration_s:.2f} s)")
    return 0
