"""The systems a benchmark compares: rixin's engine, and plain llama-cpp-python (what a user gets without rixin).

A system answers one assistant turn: given the conversation and the tools, which calls (or which text)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rixin.bench.checker import Call
from rixin.calling import Engine
from rixin.calling.parse import parse_tool_calls
from rixin.models import LlamaModel
from rixin.tools import Tool
from rixin.types import GenerationOptions, Message, ToolCall

if TYPE_CHECKING:
    from rixin.bench.execsuite.base import ExecEnv


@dataclass
class Turn:
    calls: list[Call]
    message: Message
    """The assistant message to append to the conversation (with tool_calls when there are calls)."""
    raw_output: str
    unparsable: bool = False
    """The output tried to call but could not be read (or no valid call could be made)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class System(Protocol):
    name: str

    def turn(self, messages: list[Message], tools: Sequence[Tool | dict[str, Any]]) -> Turn:
        """One assistant turn; `tools` as OpenAI tool dicts or Tools (the execution suite's, which say which of
        them only read)."""
        ...


class RixinSystem:
    """The function-calling engine, with its default or chosen options."""

    def __init__(self, engine: Engine, *, max_tokens: int = 512) -> None:
        self.engine = engine
        self.name = "rixin"
        self._options = GenerationOptions(max_tokens=max_tokens, temperature=0.0)

    def turn(self, messages: list[Message], tools: Sequence[Tool | dict[str, Any]]) -> Turn:
        result = self.engine.chat(messages, tools=tools, tool_choice="auto", options=self._options)
        raw = "\n---\n".join(a.raw_output for a in result.attempts) or result.raw_output
        calls = [Call(c.function.name, c.parsed_arguments()) for c in result.message.tool_calls or []]
        return Turn(
            calls=calls,
            message=result.message,
            raw_output=raw,
            unparsable=result.error is not None,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            timings=dict(result.timings),
        )


class LlamaCppBaseline:
    """llama-cpp-python's `create_chat_completion(tools=…)` with the model's own template, greedy, and a
    lenient parser over its text (it returns calls as text unless a special chat format is chosen)."""

    def __init__(self, model: LlamaModel, *, max_tokens: int = 512) -> None:
        self.model = model
        self.name = "baseline:llama-cpp"
        self._max_tokens = max_tokens

    def turn(self, messages: list[Message], tools: Sequence[Tool | dict[str, Any]]) -> Turn:
        wire_tools = [t.to_openai() if isinstance(t, Tool) else t for t in tools]
        started = time.perf_counter()
        response = self.model.create_chat_completion(
            messages=[_wire(m) for m in messages],
            tools=wire_tools or None,
            temperature=0.0,
            max_tokens=self._max_tokens,
        )
        seconds = time.perf_counter() - started
        choice = response["choices"][0]["message"]
        text = choice.get("content") or ""
        native = choice.get("tool_calls") or []
        if native:
            parsed_calls = [Call(c["function"]["name"], _loads(c["function"].get("arguments") or "{}")) for c in native]
            errors: list[str] = []
        else:
            signatures = {
                t["function"]["name"]: list(t["function"]["parameters"].get("properties", {})) for t in wire_tools
            }
            parsed = parse_tool_calls(text, signatures)
            parsed_calls = [Call(c.name, c.arguments) for c in parsed.calls]
            errors = parsed.errors
        usage = response.get("usage") or {}
        tool_calls = [ToolCall.make(c.name, c.arguments) for c in parsed_calls] or None
        message = Message(role="assistant", content=None if tool_calls else text, tool_calls=tool_calls)
        return Turn(
            calls=parsed_calls,
            message=message,
            raw_output=text or json.dumps(native),
            unparsable=not parsed_calls and bool(errors),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            timings={"total_s": seconds},
        )


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _wire(message: Message) -> dict[str, Any]:
    """OpenAI wire form; the Qwen template wants tool-call arguments as objects, not JSON strings."""
    out = message.to_openai()
    for call in out.get("tool_calls", []):
        call["function"]["arguments"] = _loads(call["function"]["arguments"])
    if out.get("content") is None:
        out["content"] = ""
    return out


class AgentSystem:
    """rixin's agent loop (`rixin.agents.run_agent`) over the engine: on multi-turn (execution) tasks a failed
    call comes back with a hint to fix it, the retry samples a little, and an exact repeat of a failed call
    is refused (`self_correct`); off, the same loop without those. One-turn items are a plain engine turn."""

    def __init__(self, engine: Engine, *, self_correct: bool, max_turns: int, max_tokens: int = 512) -> None:
        self.engine = engine
        self.self_correct = self_correct
        self.max_turns = max_turns
        self.max_tokens = max_tokens
        self.name = "rixin-agent" if self_correct else "rixin-agent-no-correct"
        self._single = RixinSystem(engine, max_tokens=max_tokens)

    def turn(self, messages: list[Message], tools: Sequence[Tool | dict[str, Any]]) -> Turn:
        return self._single.turn(messages, tools)

    def play(self, env: ExecEnv, prompt: str) -> list[Turn]:
        """Run the task to the end in `env` (calls go through `env.execute`, so the judge sees every one)."""
        from rixin.agents import Agent, run_agent

        agent = Agent(
            tools=[_LoggedTool.wrap(t, env) for t in env.tools],
            max_turns=self.max_turns,
            max_tokens=self.max_tokens,
            self_correct=self.self_correct,
            seed=0,  # the retries' sampling is reproducible
        )
        by_turn: dict[int, Turn] = {}
        for step in run_agent(agent, self.engine, prompt):
            if step.turn < 1 or step.kind in ("result", "notice"):
                continue
            turn = by_turn.setdefault(step.turn, Turn(calls=[], message=Message(role="assistant"), raw_output=""))
            if step.usage is not None:
                turn.prompt_tokens += step.usage.prompt_tokens
                turn.completion_tokens += step.usage.completion_tokens
            turn.timings["total_s"] = turn.timings.get("total_s", 0.0) + step.seconds
            if step.kind == "call" and step.call is not None:
                arguments = step.call.parsed_arguments()
                turn.calls.append(Call(step.call.function.name, arguments))
                turn.raw_output += json.dumps({"name": step.call.function.name, "arguments": arguments}) + "\n"
            else:
                turn.raw_output += f"[{step.kind}] {step.text}"
                turn.unparsable = turn.unparsable or step.kind == "error"
        turns = [by_turn[n] for n in sorted(by_turn)]
        return turns


class ApiCallFailed(Exception):
    """An execution-suite API rejected a call; the message is the API's own error."""


@dataclass(frozen=True)
class _LoggedTool(Tool):
    """An execution-suite tool whose calls run through the task's `ExecEnv` (and are logged for the judge)."""

    env: ExecEnv | None = None

    @classmethod
    def wrap(cls, tool: Tool, env: ExecEnv) -> _LoggedTool:
        fields = {f.name: getattr(tool, f.name) for f in dataclasses.fields(tool)}
        return cls(**fields, env=env)

    def invoke(self, arguments: Mapping[str, Any]) -> Any:
        assert self.env is not None
        ok, text = self.env.execute(self.name, arguments)
        if not ok:
            raise ApiCallFailed(json.loads(text).get("error", text))
        return text
