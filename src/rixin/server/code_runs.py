"""The built-in code interpreter for responses: one sandbox session per response, its runs as
`code_interpreter_call` output items; images and written files are kept as the owner's files."""

from __future__ import annotations

import base64
import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

from rixin.server.settings import ServerSettings
from rixin.store import Store
from rixin.tools.code_interpreter import TOOL_NAME, CodeInterpreter

log = logging.getLogger("rixin.server")
INLINE_IMAGE_BYTES = 1024 * 1024


class CodeSession:
    """Opens its sandbox on the first run (a response that never computes pays nothing)."""

    def __init__(self, settings: ServerSettings, store: Store, owner: str, file_ids: list[str]) -> None:
        self.store, self.owner, self.file_ids = store, owner, file_ids
        self.container_id = "cntr_" + secrets.token_hex(12)
        self._images = tempfile.TemporaryDirectory(prefix="rixin-images-")
        image_dir = Path(self._images.name)

        def open_session() -> Any:
            from rixin.sandbox import Limits, open_sandbox

            limits = Limits(timeout_s=settings.code_timeout_s)
            if settings.sandbox_gateway:
                return open_sandbox("gateway", gateway_url=settings.sandbox_gateway, limits=limits, image_dir=image_dir)
            return open_sandbox(limits=limits, unsafe=settings.unsafe_no_sandbox, image_dir=image_dir)

        self.interpreter = CodeInterpreter(open_session)
        self._files_uploaded = False

    @property
    def tool_name(self) -> str:
        return TOOL_NAME

    def _upload_files(self) -> None:
        if self._files_uploaded:
            return
        self._files_uploaded = True
        for file_id in self.file_ids:
            info = self.store.get_file(self.owner, file_id)
            data = self.store.read_file(self.owner, file_id)
            if info is not None and data is not None:
                self.interpreter.session.upload(info.filename, data)

    def run(self, code: str, item_id: str | None = None) -> tuple[dict[str, Any], str]:
        """Run `code`; the output item (`item_id`, else a new id) for the client and the text the model reads."""
        self._upload_files()
        text = self.interpreter.run(code)
        result = self.interpreter.runs[-1]
        logs = "\n".join(part for part in (result.stdout, *result.results, result.stderr) if part.strip())
        if result.error is not None:
            logs = (logs + "\n" if logs else "") + result.error.traceback.strip()
        outputs: list[dict[str, Any]] = [{"type": "logs", "logs": logs}] if logs else []
        for path in result.images:
            data = path.read_bytes()
            info = self.store.add_file(self.owner, path.name, "assistants", data)
            image: dict[str, Any] = {"type": "image", "file_id": info.id}
            image["url"] = (
                "data:image/png;base64," + base64.b64encode(data).decode()
                if len(data) <= INLINE_IMAGE_BYTES
                else f"/v1/files/{info.id}/content"
            )
            outputs.append(image)
        files = []
        for name in result.files:
            try:
                info = self.store.add_file(self.owner, name, "assistants", self.interpreter.session.download(name))
            except Exception as error:  # a file that vanished or is too large is reported, not fatal
                log.warning("could not keep the file %s the code wrote: %s", name, error)
                continue
            files.append({"file_id": info.id, "filename": name})
        item: dict[str, Any] = {
            "id": item_id or "ci_" + secrets.token_hex(12),
            "type": "code_interpreter_call",
            "status": "completed" if result.ok else "failed",
            "code": code,
            "container_id": self.container_id,
            "outputs": outputs,
            "rixin_output_text": text,
        }
        if files:
            item["files"] = files
        return item, text

    def close(self) -> None:
        try:
            self.interpreter.close()
        finally:
            self._images.cleanup()
