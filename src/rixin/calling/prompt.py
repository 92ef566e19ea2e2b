"""Rendering a conversation and its tools into the model's own chat template (read from the GGUF)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rixin.calling.families import Family
from rixin.tools import Tool
from rixin.types import Message

# Used when a GGUF carries no template at all.
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _raise(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


@lru_cache(maxsize=8)
def _compile(source: str) -> Any:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


def _arguments_object(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError:
        return text


def render_prompt(
    template: str | None,
    family: Family,
    messages: list[Message],
    tools: list[Tool] | None,
    *,
    bos_token: str = "",
    eos_token: str = "",
) -> str:
    """The prompt text up to and including the assistant's generation prefix."""
    dicts: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content or ""}
        if message.tool_calls:
            calls = [
                {"name": c.function.name, "arguments": _arguments_object(c.function.arguments)}
                for c in message.tool_calls
            ]
            if family.native_tools:
                item["tool_calls"] = [{"type": "function", "function": c} for c in calls]
            else:
                item["content"] = "\n".join(filter(None, [item["content"], family.render_call_history(calls)]))
        if message.role == "tool":
            if message.name:
                item["name"] = message.name
            if not family.native_tools:
                item = {"role": "user", "content": family.render_tool_result(item["content"])}
        dicts.append(item)

    native_tools: list[dict[str, Any]] | None = None
    if tools:
        if family.native_tools:
            native_tools = [t.to_openai() for t in tools]
        else:
            instructions = family.tools_system_prompt(tools)
            if dicts and dicts[0]["role"] == "system":
                dicts[0] = {"role": "system", "content": dicts[0]["content"] + "\n\n" + instructions}
            else:
                dicts.insert(0, {"role": "system", "content": instructions})
    compiled = _compile(template or CHATML)
    text: str = compiled.render(
        messages=dicts,
        tools=native_tools,
        add_generation_prompt=True,
        bos_token=bos_token,
        eos_token=eos_token,
    )
    return text
