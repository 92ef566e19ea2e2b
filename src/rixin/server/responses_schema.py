"""The request body of `POST /v1/responses` (OpenAI's Responses API): input items, instructions, function
tools run by the client and the built-in `code_interpreter` run here (optionally only once a person approves
each call: `require_approval`), `previous_response_id` or a `conversation` for context."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rixin.server.chat_schema import NAME, ToolAnnotationsIn
from rixin.server.items import ResponseItemList


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FunctionTool(Strict):
    type: Literal["function"]
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    annotations: ToolAnnotationsIn | None = None


class AutoContainer(Strict):
    type: Literal["auto"]
    file_ids: list[str] | None = Field(default=None, max_length=50)
    memory_limit: str | None = None


class CodeInterpreterTool(Strict):
    type: Literal["code_interpreter"]
    container: str | AutoContainer | None = None
    require_approval: Literal["always", "never"] | None = None
    """"always": every call waits for a person (the field OpenAI's MCP tools have); default "never"."""


ResponseTool = Annotated[FunctionTool | CodeInterpreterTool, Field(discriminator="type")]


class NamedFunction(Strict):
    type: Literal["function"]
    name: str


class BuiltinChoice(Strict):
    type: Literal["code_interpreter"]


class TextFormat(Strict):
    type: Literal["text"]


class JsonObjectFormat(Strict):
    type: Literal["json_object"]


class JsonSchemaFormat(Strict):
    type: Literal["json_schema"]
    name: str = Field(pattern=NAME)
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class TextConfig(Strict):
    format: Annotated[TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")] | None = None
    verbosity: str | None = None


class ConversationRef(Strict):
    id: str


class ResponseRequest(Strict):
    model: str
    input: str | ResponseItemList
    instructions: str | None = None
    tools: list[ResponseTool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["auto", "required", "none"] | NamedFunction | BuiltinChoice | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    conversation: str | ConversationRef | None = None
    max_output_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_tool_calls: int | None = Field(default=None, ge=1, le=64)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    text: TextConfig | None = None
    stream: bool | None = None
    store: bool | None = None
    metadata: Annotated[dict[str, str], Field(max_length=16)] | None = None
    background: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    include: list[str] | None = None
    user: str | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
