"""The fields of a YAML agent, validated with pydantic (unknown fields are errors: a typo must not pass)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rixin.plugins.mcp_spec import McpServerSpec


class OpenApiConfig(BaseModel):
    """An OpenAPI 3 service whose operations become tools."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    path: str | None = None
    """A local file, relative to the agent's YAML file."""
    base_url: str | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    include: list[str] | None = None
    """Only these operations (operationIds or tool names)."""

    @model_validator(mode="after")
    def _one_source(self) -> OpenApiConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of 'url' or 'path'")
        return self


class CodeInterpreterConfig(BaseModel):
    """Limits of the code interpreter's sandbox session (used when `tools` lists `code_interpreter`)."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=120.0, gt=0)
    memory_mb: int = Field(default=2048, ge=64)
    gateway_url: str | None = None
    """Run the sessions on a remote Jupyter Kernel Gateway instead of the local sandbox."""


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_.-]+$")
    description: str = ""
    model: str | None = None
    instructions: str = ""
    tools: list[str] = Field(default_factory=list)
    """Built-in names (`code_interpreter`), `file.py:function`, `file.py` (all its @tool functions),
    `package.module:function`, or `other-agent.yaml` (that agent as a tool). Paths are relative to this file."""
    mcp_servers: list[McpServerSpec] = Field(default_factory=list)
    openapi: list[OpenApiConfig] = Field(default_factory=list)
    approval: list[str] = Field(default_factory=list)
    """Tools whose calls wait for a person's approval."""
    approval_timeout_s: float | None = Field(default=None, gt=0)
    max_turns: int = Field(default=8, ge=1, le=200)
    max_tool_calls: int = Field(default=24, ge=1)
    time_budget_s: float | None = Field(default=None, gt=0)
    max_tokens: int = Field(default=1024, ge=16)
    parallel_tool_calls: bool = True
    self_correct: bool = True
    retry_temperature: float = Field(default=0.7, ge=0, le=2)
    seed: int | None = None
    code_interpreter: CodeInterpreterConfig = Field(default_factory=CodeInterpreterConfig)

    @field_validator("mcp_servers")
    @classmethod
    def _unique_servers(cls, servers: list[McpServerSpec]) -> list[McpServerSpec]:
        names = [server.name for server in servers]
        clash = next((name for name in names if names.count(name) > 1), None)
        if clash is not None:
            raise ValueError(f"two MCP servers are named {clash!r}")
        return servers

    @field_validator("tools", "approval")
    @classmethod
    def _no_empty_names(cls, values: list[Any]) -> list[Any]:
        if any(not str(value).strip() for value in values):
            raise ValueError("an entry is empty")
        return values
