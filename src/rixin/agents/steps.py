"""The events of a run (`Step`) and its collected outcome (`AgentRun`): plain data the CLI, the server and the
stored traces all read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from rixin.types import Message, ToolCall, Usage

StepKind = Literal["call", "result", "answer", "error", "limit", "review", "approval", "notice"]


@dataclass(frozen=True)
class Step:
    """One event of a run. `call`: the model asked for a tool call; `result`: its result (`is_error` when the
    tool failed); `answer`: the final text; `error`: the model could not produce a valid turn; `limit`: a
    limit stopped the run (`text` says which); `review`: a checker outside the loop sent the model back
    with a new request (`text`); `approval`: a call waits for a person's decision (`approval_id`);
    `notice`: something the user should know that does not stop the run (a plugin that failed to start or
    stopped). `usage` (tokens of the model's turn) is on the first step of each turn."""

    kind: StepKind
    turn: int
    text: str = ""
    call: ToolCall | None = None
    is_error: bool = False
    seconds: float = 0.0
    approval_id: str | None = None
    usage: Usage | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "turn": self.turn, "seconds": round(self.seconds, 3)}
        if self.call is not None:
            out["call"] = {"id": self.call.id, "name": self.call.name, "arguments": arguments_of(self.call)}
        if self.text:
            out["text"] = self.text
        if self.kind == "result":
            out["is_error"] = self.is_error
        if self.approval_id is not None:
            out["approval_id"] = self.approval_id
        if self.usage is not None:
            out["usage"] = self.usage.model_dump()
        return out


@dataclass
class AgentRun:
    """The outcome of `run_agent_to_end`: the answer (None when a limit or an error ended the run)."""

    answer: str | None
    steps: list[Step]
    messages: list[Message]
    usage: Usage
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "steps": [step.to_dict() for step in self.steps],
            "usage": self.usage.model_dump(),
            "seconds": round(self.seconds, 3),
        }


def arguments_of(call: ToolCall) -> Any:
    """The call's arguments as data (the raw text when they are not a JSON object)."""
    try:
        return call.parsed_arguments()
    except ValueError:
        return call.function.arguments


def format_arguments(call: ToolCall) -> str:
    return json.dumps(arguments_of(call), ensure_ascii=False)
