#!/usr/bin/env bash
# The code interpreter's sandbox runtime, idempotent (stamp files make the second run instant):
#   - the unprivileged system user `rixin-sandbox` (only when run as root; no login shell, no home);
#   - under the sandbox home (RIXIN_SANDBOX_HOME, else /var/lib/rixin-sandbox as root, else
#     ~/.cache/rixin/sandbox; the same rule as src/rixin/sandbox/runtime.py):
#       venv/           pinned kernel packages (scripts/sandbox-requirements.txt), built from Debian's
#                       /usr/bin/python3 (the pyenv interpreter under /root is unreadable for the sandbox user),
#                       byte-compiled because sessions mount it read-only
#       kernels/rixin/  the kernelspec ("interrupt_mode": "message": a signal never reaches a kernel in bwrap)
#       mplconfig/      matplotlibrc (Agg, a CJK font first) and a pre-built font cache, copied into each session
#       sessions/       one folder per live session (0711: the sandbox user may enter its own, list none)
#   - then one real sandboxed kernel is started to prove it works.
# Needs bubblewrap, python3-venv and fonts-wqy-microhei (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup-sandbox]\033[0m %s\n' "$*"; }
SANDBOX_USER=rixin-sandbox
REQUIREMENTS=scripts/sandbox-requirements.txt

if [ -n "${RIXIN_SANDBOX_HOME:-}" ]; then home=$RIXIN_SANDBOX_HOME
elif [ "$(id -u)" -eq 0 ]; then home=/var/lib/rixin-sandbox
else home=$HOME/.cache/rixin/sandbox; fi

command -v bwrap >/dev/null || { echo "bubblewrap is missing: apt-get install bubblewrap" >&2; exit 1; }

owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  if ! getent passwd "$SANDBOX_USER" >/dev/null; then
    say "creating the system user $SANDBOX_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SANDBOX_USER"
  fi
  owner=$SANDBOX_USER
fi

stamp=$home/.setup-stamp
want=$( (cat scripts/setup_sandbox.sh "$REQUIREMENTS"; id -u "$owner"; /usr/bin/python3 --version) | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$home/venv/bin/python" ]; then
  exit 0
fi
mkdir -p "$home"
chmod 0755 "$home"

# The venv only when what decides it changed (it takes a minute); the small files below are rewritten each time.
venv_stamp=$home/venv/.rixin-stamp
venv_want=$( (cat "$REQUIREMENTS"; /usr/bin/python3 --version) | sha256sum | cut -c1-16)
if [ "$(cat "$venv_stamp" 2>/dev/null)" != "$venv_want" ]; then
  say "building the sandbox venv in $home/venv"
  rm -rf "$home/venv"
  /usr/bin/python3 -m venv "$home/venv"
  "$home/venv/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
  # Read-only inside the sandbox, so byte-code must exist up front or every import recompiles.
  "$home/venv/bin/python" -m compileall -q -j 0 "$home/venv/lib" >/dev/null || true
  echo "$venv_want" > "$venv_stamp"
fi

rm -rf "$home/kernels" "$home/mplconfig"
mkdir -p "$home/kernels/rixin"
# ipykernel_launcher, but with the temporary folder fixed first: ipykernel names every cell through
# tempfile.gettempdir(), which probes by writing a file and fails on a full work folder, so a kernel restarted
# after the code filled its disk could run nothing, not even the code that would free space.
cat > "$home/kernels/rixin/launch_kernel.py" <<'PY'
import os
import sys
import tempfile

tempfile.tempdir = os.environ.get("TMPDIR") or "/tmp"
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

from ipykernel import kernelapp

kernelapp.launch_new_instance()
PY
# History in memory: IPython's SQLite history file in $HOME breaks (loudly) when the work folder is full.
cat > "$home/kernels/rixin/kernel.json" <<JSON
{
  "argv": ["$home/venv/bin/python", "$home/kernels/rixin/launch_kernel.py", "--HistoryManager.hist_file=:memory:",
           "-f", "{connection_file}"],
  "display_name": "rixin sandbox (Python 3)",
  "language": "python",
  "interrupt_mode": "message",
  "metadata": {"debugger": false}
}
JSON

# The kernel's inline backend still draws with Agg; Agg here keeps plain scripts (subprocesses) off GUI backends.
mkdir -p "$home/mplconfig"
cat > "$home/mplconfig/matplotlibrc" <<'RC'
backend: Agg
font.family: sans-serif
font.sans-serif: WenQuanYi Micro Hei, DejaVu Sans
axes.unicode_minus: False
RC
# Build the font cache once with a neutral HOME, so it lists only fonts the sandbox can see too. Measured: a
# session without it spends ~0.1 s rebuilding it on the first matplotlib import.
build_home=$(mktemp -d)
HOME=$build_home MPLCONFIGDIR=$home/mplconfig "$home/venv/bin/python" -c '
from matplotlib import font_manager
path = font_manager.findfont(font_manager.FontProperties(family="WenQuanYi Micro Hei"), fallback_to_default=False)
print("CJK font:", path)'
rm -rf "$build_home"

mkdir -p "$home/sessions"
chmod -R a+rX "$home/venv" "$home/kernels" "$home/mplconfig"
chmod 0711 "$home/sessions"

# Prove it: one sandboxed kernel, started the way the server starts it.
# Skipped only before the project's .venv exists (a stand-alone run on a fresh machine); setup.sh runs it later.
if [ -x .venv/bin/python ]; then
  RIXIN_SANDBOX_HOME=$home .venv/bin/python -m rixin.sandbox --verify
fi
echo "$want" > "$stamp"
say "sandbox runtime ready"
