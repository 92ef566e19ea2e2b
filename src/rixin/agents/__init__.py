"""Agents: instructions, tools, plugins and limits, run by a short loop that yields its steps as events.

`Agent` in Python or `load_agent("agent.yaml")`; `run_agent` (live steps) or `run_agent_to_end`; approvals
through an `ApprovalQueue` or a callable; `agent.as_tool()` for one agent calling another; traces of runs
saved by `save_trace` under `runs_dir()`.
"""

from rixin.agents.agent import Agent
from rixin.agents.approvals import (
    ApprovalError,
    ApprovalQueue,
    Approver,
    GatedTool,
    PendingApproval,
    needs_approval,
)
from rixin.agents.loading import load_agent
from rixin.agents.loop import run_agent, run_agent_to_end
from rixin.agents.steps import AgentRun, Step, StepKind
from rixin.agents.trace import list_traces, load_trace, new_run_id, runs_dir, save_trace, trace_of
from rixin.agents.yaml_source import AgentConfigError

__all__ = [
    "Agent",
    "AgentConfigError",
    "AgentRun",
    "ApprovalError",
    "ApprovalQueue",
    "Approver",
    "GatedTool",
    "PendingApproval",
    "Step",
    "StepKind",
    "list_traces",
    "load_agent",
    "load_trace",
    "needs_approval",
    "new_run_id",
    "run_agent",
    "run_agent_to_end",
    "runs_dir",
    "save_trace",
    "trace_of",
]
