"""A checked chat request turned into the engine's arguments. Everything a client can get wrong is found here,
before the request waits for the model, and answered with a 400 naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from rixin.errors import ToolSchemaError
from rixin.server.chat_schema import (
    AssistantMessage,
    ChatCompletionRequest,
    JsonObjectFormat,
    JsonSchemaFormat,
    NamedToolChoice,
    OtherPart,
    RefusalPart,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)
from rixin.server.errors import bad_request
from rixin.tools import Tool, as_tools
from rixin.types import FunctionCall, GenerationOptions, Message, ToolCall


@dataclass(frozen=True)
class ChatCall:
    """`Engine.chat`'s arguments for one request."""

    messages: list[Message]
    tools: list[Tool]
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    options: GenerationOptions
    response_format: dict[str, Any] | None


def prepare_chat(request: ChatCompletionRequest, default_max_tokens: int) -> ChatCall:
    if request.logprobs:
        raise bad_request("logprobs are not supported by this server.", "logprobs", "unsupported_parameter")
    messages = [_message(index, message) for index, message in enumerate(request.messages)]
    tools = _tools(request)
    choice = _tool_choice(request, tools)
    max_tokens = request.max_completion_tokens or request.max_tokens or default_max_tokens
    stop = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stop) > 4:
        raise bad_request("'stop' holds at most 4 sequences.", "stop")
    if any(not s for s in stop):
        raise bad_request("stop sequences cannot be empty.", "stop")
    options = GenerationOptions(
        max_tokens=max_tokens,
        temperature=0.0 if request.temperature is None else request.temperature,  # greedy unless asked
        top_p=1.0 if request.top_p is None else request.top_p,
        stop=stop,
        seed=request.seed,
    )
    return ChatCall(
        messages=messages,
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=True if request.parallel_tool_calls is None else request.parallel_tool_calls,
        options=options,
        response_format=_response_format(request),
    )


def _text(parts: str | list[Any] | None, param: str) -> str | None:
    if parts is None or isinstance(parts, str):
        return parts
    texts: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, RefusalPart):
            texts.append(part.refusal)
        elif isinstance(part, OtherPart):
            raise bad_request(
                f"Content of type '{part.type}' is not supported: this model reads text only.",
                f"{param}[{index}].type",
                "unsupported_content",
            )
    return "\n".join(texts)


def _message(index: int, message: Any) -> Message:
    param = f"messages[{index}].content"
    if isinstance(message, SystemMessage):
        return Message(role="system", content=_text(message.content, param), name=message.name)
    if isinstance(message, UserMessage):
        return Message(role="user", content=_text(message.content, param), name=message.name)
    if isinstance(message, ToolMessage):
        return Message(role="tool", content=_text(message.content, param), tool_call_id=message.tool_call_id)
    assert isinstance(message, AssistantMessage)
    calls = [
        ToolCall(id=call.id, function=FunctionCall(name=call.function.name, arguments=call.function.arguments))
        for call in message.tool_calls or []
    ]
    content = _text(message.content, param)
    if content is None and not calls:
        content = message.refusal or ""
    return Message(role="assistant", content=content, tool_calls=calls or None, name=message.name)


def _tools(request: ChatCompletionRequest) -> list[Tool]:
    if not request.tools:
        return []
    specs = [tool.model_dump(exclude_none=True) for tool in request.tools]
    try:
        return as_tools(specs)
    except ToolSchemaError as error:
        raise bad_request(f"Invalid tools: {error}", "tools", "invalid_tool_schema") from error


def _tool_choice(request: ChatCompletionRequest, tools: list[Tool]) -> str | dict[str, Any]:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    if not tools and choice != "none":
        raise bad_request("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice")
    if isinstance(choice, NamedToolChoice):
        names = [tool.name for tool in tools]
        if choice.function.name not in names:
            raise bad_request(
                f"tool_choice names the function {choice.function.name!r}, which is not among the tools "
                f"({', '.join(names)}).",
                "tool_choice",
            )
        return {"type": "function", "function": {"name": choice.function.name}}
    return choice


def _response_format(request: ChatCompletionRequest) -> dict[str, Any] | None:
    spec = request.response_format
    if isinstance(spec, JsonObjectFormat):
        return {"type": "json_object"}
    if not isinstance(spec, JsonSchemaFormat):
        return None
    schema = spec.json_schema.schema_
    if schema is not None:
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            path = ".".join(["response_format.json_schema.schema", *map(str, error.absolute_path)])
            raise bad_request(f"Invalid JSON schema: {path}: {error.message[:300]}", path, "invalid_schema") from error
    return {
        "type": "json_schema",
        "json_schema": {
            "name": spec.json_schema.name,
            "schema": schema or {"type": "object"},
            "strict": bool(spec.json_schema.strict),
        },
    }
