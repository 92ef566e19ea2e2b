"""Turn a run's Jupyter iopub messages into a `RunResult`, with output bounded and images saved to files.

Both transports (ZMQ through jupyter_client, websockets to a Kernel Gateway) deliver the same message dicts
(`header.msg_type`, `content`), so both sandboxes share this collector.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from pathlib import Path
from typing import Any

from rixin.sandbox.base import RunError, RunResult

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MAX_IMAGES_PER_RUN = 20
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_ERROR_VALUE_CHARS = 1000


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class OutputCollector:
    """Accumulates the outputs of one execute request. Text beyond `max_chars` (over stdout, stderr and
    results together) is dropped and `truncated` set; PNGs go to `image_dir` under fresh names."""

    def __init__(self, max_chars: int, image_dir: Path | None) -> None:
        self.max_chars = max_chars
        self.image_dir = image_dir
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.results: list[str] = []
        self.images: list[Path] = []
        self.error: RunError | None = None
        self.truncated = False
        self._kept = 0

    def _keep(self, text: str) -> str:
        room = self.max_chars - self._kept
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        self._kept += len(text)
        return text

    def handle(self, message: dict[str, Any]) -> None:
        """Take one iopub message that belongs to this run (the caller filters on parent_header.msg_id)."""
        kind = message.get("header", {}).get("msg_type") or message.get("msg_type")
        content = message.get("content", {})
        if kind == "stream":
            text = self._keep(str(content.get("text", "")))
            (self.stderr if content.get("name") == "stderr" else self.stdout).append(text)
        elif kind in ("execute_result", "display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                self._save_png(data["image/png"])
            if "text/plain" in data and "image/png" not in data:
                self.results.append(self._keep(str(data["text/plain"])))
        elif kind == "error":
            traceback = strip_ansi("\n".join(str(line) for line in content.get("traceback", [])))
            value = strip_ansi(str(content.get("evalue", "")))
            if len(value) > MAX_ERROR_VALUE_CHARS:  # the message is in the traceback too; keep one copy whole
                value = value[:MAX_ERROR_VALUE_CHARS] + " [...]"
                self.truncated = True
            self.error = RunError(
                name=str(content.get("ename", "Error"))[:200],
                value=value,
                traceback=self._keep(traceback),
            )
        elif kind == "clear_output":
            self.stdout.clear()
            self.results.clear()

    def _save_png(self, encoded: Any) -> None:
        if self.image_dir is None or len(self.images) >= MAX_IMAGES_PER_RUN or not isinstance(encoded, str):
            self.truncated = self.truncated or len(self.images) >= MAX_IMAGES_PER_RUN
            return
        try:
            raw = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            return
        if len(raw) > MAX_IMAGE_BYTES or not raw.startswith(b"\x89PNG"):
            return
        self.image_dir.mkdir(parents=True, exist_ok=True)
        path = self.image_dir / f"image-{uuid.uuid4().hex[:12]}.png"
        path.write_bytes(raw)
        self.images.append(path)

    def result(self, duration_s: float, timed_out: bool = False, files: list[str] | None = None) -> RunResult:
        stderr = "".join(self.stderr)
        if self.truncated:
            stderr += f"\n[rixin: output truncated at {self.max_chars} characters]"
        return RunResult(
            stdout="".join(self.stdout),
            stderr=stderr,
            error=self.error,
            results=self.results,
            images=self.images,
            files=files or [],
            timed_out=timed_out,
            truncated=self.truncated,
            duration_s=duration_s,
        )
