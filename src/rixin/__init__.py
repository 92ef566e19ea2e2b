"""rixin: reliable tool use for open language models.

from rixin import open_model, tool

@tool
def get_weather(city: str) -> str:
    "Current weather for a city."
    ...

model = open_model()            # the embedded Qwen2.5-Coder-0.5B
result = model.chat([{"role": "user", "content": "Weather in Paris?"}], tools=[get_weather])
result.message.tool_calls       # validated calls
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "open_model", "tool"]

if TYPE_CHECKING:
    from rixin.calling import open_model
    from rixin.tools import tool


def __getattr__(name: str) -> Any:
    # Lazy: `import rixin` stays cheap (the CLI's --help must not load llama.cpp).
    if name == "open_model":
        from rixin.calling import open_model

        return open_model
    if name == "tool":
        from rixin.tools import tool

        return tool
    raise AttributeError(name)
