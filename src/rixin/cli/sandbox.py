"""`rixin sandbox run FILE.py`: run a file in a fresh sandbox session and print one JSON object."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rixin.errors import RixinError
from rixin.sandbox import Limits, open_sandbox


def run_sandbox_command(args: argparse.Namespace) -> int:
    for path in [args.file, *args.data]:
        if not Path(path).is_file():
            raise RixinError(f"no such file: {path}")
    code = Path(args.file).read_text(encoding="utf-8")
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="rixin-sandbox-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    limits = Limits(timeout_s=args.timeout, memory_mb=args.memory, disk_mb=args.disk)
    kind = "gateway" if args.gateway else "local"
    with open_sandbox(
        kind, limits=limits, gateway_url=args.gateway, unsafe=args.unsafe_no_sandbox, image_dir=out_dir / "images"
    ) as session:
        for data in args.data:
            session.upload_file(data)
        result = session.run(code)
        files: list[str] = []
        for name in result.files:
            target = out_dir / "files" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(session.download(name))
            files.append(str(target.resolve()))
    images = [str(path.resolve()) for path in result.images]
    images += [path for path in files if path.lower().endswith(".png")]
    report = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "error": result.error.to_dict() if result.error else None,
        "images": images,
        "files": files,
        "timed_out": result.timed_out,
        "truncated": result.truncated,
        "duration_s": round(result.duration_s, 3),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0
