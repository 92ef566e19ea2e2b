"""`python -m rixin.sandbox [--verify]`: where the sandbox runtime is, and (with --verify) one real session."""

from __future__ import annotations

import argparse
import sys

from rixin.sandbox.runtime import SandboxRuntime, verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rixin.sandbox", description=__doc__)
    parser.add_argument("--verify", action="store_true", help="start one sandboxed kernel and check it")
    args = parser.parse_args(argv)
    runtime = SandboxRuntime.resolve()
    print(f"sandbox home: {runtime.home}; user: {runtime.user.name if runtime.user else 'ourselves'}")
    return verify() if args.verify else 0


if __name__ == "__main__":
    sys.exit(main())
