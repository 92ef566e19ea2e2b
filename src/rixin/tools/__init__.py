"""Tool definitions: Python functions and OpenAI tool dicts as validated, strict JSON Schemas."""

from rixin.tools.execute import execute_call, result_text
from rixin.tools.loading import load_tools_file, tools_from_module
from rixin.tools.schema import Tool, ToolNotCallableError, as_tools, tool, tool_from_openai

__all__ = [
    "Tool",
    "ToolNotCallableError",
    "as_tools",
    "execute_call",
    "load_tools_file",
    "result_text",
    "tool",
    "tool_from_openai",
    "tools_from_module",
]
