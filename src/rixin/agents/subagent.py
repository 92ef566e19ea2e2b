"""One agent as a tool of another: the caller's model writes a task, the sub-agent runs to its answer.

The sub-agent uses, in order: the model given to `as_tool`, its own `model` spec, or the model of the run that
calls it. Its MCP servers and code interpreter are its own; its steps stay inside, only the answer (or why
there is none) goes back to the caller.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rixin.errors import RixinError
from rixin.plugins import safe_name
from rixin.tools import Tool

if TYPE_CHECKING:
    from rixin.agents.agent import Agent
    from rixin.models import ChatModel


class SubAgentError(RixinError):
    """A sub-agent that ended without an answer (a limit or a model error); the message says which."""


def agent_tool(
    agent: Agent, *, name: str | None = None, description: str | None = None, model: ChatModel | str | None = None
) -> Tool:
    opened: dict[str, ChatModel] = {}
    lock = threading.Lock()

    def model_for_call() -> ChatModel:
        from rixin.agents.loop import current_model

        if model is not None and not isinstance(model, str):
            return model
        spec = model if isinstance(model, str) else agent.model
        if spec is None:
            parent = current_model.get()
            if parent is not None:
                return parent
        with lock:  # open the model once per tool, not per call
            key = spec or ""
            if key not in opened:
                from rixin.calling import open_model

                opened[key] = open_model(spec)
            return opened[key]

    def run(task: str) -> str:
        from rixin.agents.loop import run_agent_to_end

        outcome = run_agent_to_end(agent, model_for_call(), task)
        if outcome.answer is None:
            last = outcome.steps[-1] if outcome.steps else None
            why = f"{last.kind}: {last.text}" if last is not None else "no steps"
            raise SubAgentError(f"agent '{agent.name}' gave no answer ({why})")
        return outcome.answer

    text = description or agent.description or f"Ask the agent '{agent.name}' to do a task; it answers in words."
    return Tool(
        name=safe_name(name or agent.name),
        description=text,
        parameters={
            "type": "object",
            "properties": {"task": {"type": "string", "description": "the task, complete and self-contained"}},
            "required": ["task"],
            "additionalProperties": False,
        },
        function=run,
    )
