"""Agents: instructions, tools and limits, run by a short loop that yields its steps as events."""

from rixin.agents.loop import Agent, AgentRun, Step, run_agent, run_agent_to_end

__all__ = ["Agent", "AgentRun", "Step", "run_agent", "run_agent_to_end"]
