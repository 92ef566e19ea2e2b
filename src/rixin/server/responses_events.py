"""A streamed response on the wire, in OpenAI's Responses event shape: `response.created`, `response.in_progress`,
per output item `response.output_item.added` … `response.output_item.done` (with `response.content_part.*` and
`response.output_text.delta`/`.done` for messages, `response.code_interpreter_call*` for code runs,
`response.function_call_arguments.*` for calls the client runs, added and done at once for `approval_request`s),
then `response.completed` (or `.incomplete`, `.failed`). Every event has a `sequence_number`; items carry no
private `rixin_…` keys."""

from __future__ import annotations

import json
from typing import Any

from rixin.server.errors import APIError

END_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


def public(value: Any) -> Any:
    """Drop rixin's private keys (`rixin_…`, e.g. the text the model read back from a run) from items."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not str(k).startswith("rixin_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


class ResponseEventWriter:
    """Turns the worker's progress into the `event: …` / `data: …` blocks of one streamed response."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.sequence = 0
        self.index = 0
        """The next output index."""
        self.message_id: str | None = None
        """The id the current turn's answer will have."""
        self.open_message: tuple[str, int, str] | None = None
        """(id, output index, text so far) of the message being streamed."""
        self.open_items: dict[str, int] = {}
        """Output index of each item added but not yet done (code runs)."""

    def _event(self, kind: str, **fields: Any) -> str:
        body = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"

    def start(self) -> list[str]:
        return [
            self._event("response.created", response=self.response),
            self._event("response.in_progress", response=self.response),
        ]

    def turn(self, message_id: str) -> list[str]:
        lines = self._abandon_message()
        self.message_id = message_id
        return lines

    def text(self, piece: str) -> list[str]:
        lines: list[str] = []
        if self.open_message is None:
            item_id = self.message_id or "msg_streamed"
            lines += self._open_message(item_id)
        assert self.open_message is not None
        item_id, index, text = self.open_message
        self.open_message = (item_id, index, text + piece)
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        lines.append(self._event("response.output_text.delta", **ids, delta=piece, logprobs=[]))
        return lines

    def item_added(self, item: dict[str, Any]) -> list[str]:
        """A code run starts: its item (in progress) and code, then `interpreting`."""
        lines = self._abandon_message()
        index = self._next_index()
        self.open_items[str(item["id"])] = index
        ids = {"item_id": item["id"], "output_index": index}
        lines += [
            self._event("response.output_item.added", output_index=index, item=public(item)),
            self._event("response.code_interpreter_call.in_progress", **ids),
            self._event("response.code_interpreter_call_code.delta", **ids, delta=item.get("code") or ""),
            self._event("response.code_interpreter_call_code.done", **ids, code=item.get("code") or ""),
            self._event("response.code_interpreter_call.interpreting", **ids),
        ]
        return lines

    def item_done(self, item: dict[str, Any]) -> list[str]:
        item = public(item)
        kind, item_id = item.get("type"), str(item.get("id"))
        if kind == "message":
            return self._message_done(item)
        lines = self._abandon_message()
        if kind == "code_interpreter_call":
            if item_id not in self.open_items:
                lines += self.item_added({**item, "status": "in_progress", "outputs": None})
            index = self.open_items.pop(item_id)
            lines.append(self._event("response.code_interpreter_call.completed", item_id=item_id, output_index=index))
            lines.append(self._event("response.output_item.done", output_index=index, item=item))
            return lines
        index = self._next_index()
        added = item if kind == "approval_request" else {**item, "status": "in_progress"}
        if kind == "function_call":
            added["arguments"] = ""
        lines.append(self._event("response.output_item.added", output_index=index, item=added))
        if kind == "function_call":
            ids = {"item_id": item_id, "output_index": index}
            arguments = str(item.get("arguments") or "")
            lines.append(self._event("response.function_call_arguments.delta", **ids, delta=arguments))
            lines.append(self._event("response.function_call_arguments.done", **ids, arguments=arguments))
        lines.append(self._event("response.output_item.done", output_index=index, item=item))
        return lines

    def end(self, response: dict[str, Any]) -> list[str]:
        lines = self._abandon_message()
        kind = END_EVENTS.get(str(response.get("status")), "response.completed")
        return [*lines, self._event(kind, response=public(response))]

    def error(self, error: APIError) -> list[str]:
        fields = {"code": error.code, "message": error.message, "param": error.param}
        return [*self._abandon_message(), self._event("error", **fields)]

    # -- messages -----------------------------------------------------------------------------------------------
    def _next_index(self) -> int:
        self.index += 1
        return self.index - 1

    def _open_message(self, item_id: str) -> list[str]:
        index = self._next_index()
        self.open_message = (item_id, index, "")
        item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        return [
            self._event("response.output_item.added", output_index=index, item=item),
            self._event("response.content_part.added", **ids, part=text_part("")),
        ]

    def _message_done(self, item: dict[str, Any]) -> list[str]:
        """The answer of this turn: closes the streamed message (its final text may differ from the pieces)."""
        item_id = str(item.get("id"))
        lines: list[str] = []
        if self.open_message is not None and self.open_message[0] != item_id:
            lines += self._abandon_message()
        if self.open_message is None:
            lines += self._open_message(item_id)
        assert self.open_message is not None
        _, index, _ = self.open_message
        self.open_message = None
        text = "".join(str(part.get("text", "")) for part in item.get("content", []) if isinstance(part, dict))
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        return [
            *lines,
            self._event("response.output_text.done", **ids, text=text, logprobs=[]),
            self._event("response.content_part.done", **ids, part=text_part(text)),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    def _abandon_message(self) -> list[str]:
        """Text was streamed, but the turn ended without an answer (the text was a call): close it unfinished."""
        if self.open_message is None:
            return []
        item_id, index, text = self.open_message
        self.open_message = None
        item: dict[str, Any] = {"id": item_id, "type": "message", "role": "assistant", "status": "incomplete"}
        item["content"] = [text_part(text)]
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        return [
            self._event("response.output_text.done", **ids, text=text, logprobs=[]),
            self._event("response.content_part.done", **ids, part=text_part(text)),
            self._event("response.output_item.done", output_index=index, item=item),
        ]
