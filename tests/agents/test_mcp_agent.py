"""MCP servers inside agent runs (scripted model, real server processes): a failing server fails only its own
tools, as data for the model and as a notice for the user; the run always goes on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rixin.agents import Agent, load_agent, run_agent_to_end
from rixin.plugins import McpServer, McpServerSpec
from rixin.tools import tool

from .scripted import ScriptedModel, answer, calls

SERVERS = Path(__file__).parent.parent / "plugins" / "servers"


def server(script: str, **settings: Any) -> McpServer:
    return McpServer(McpServerSpec(name=script, command=[sys.executable, str(SERVERS / f"{script}.py")], **settings))


@tool
def local_note(text: str) -> str:
    """Keep a note.

    Args:
        text: the note
    """
    return f"noted: {text}"


def test_mcp_tools_are_offered_and_called_and_servers_stop_after_the_run() -> None:
    normal = server("normal")
    model = ScriptedModel([calls(("add", {"a": 20, "b": 22})), answer("42")])
    run = run_agent_to_end(Agent(tools=[local_note], mcp_servers=[normal]), model, "add")
    assert run.answer == "42"
    assert model.tools_seen[0] == ["local_note", "add", "shout", "divide", "big"]
    assert [s.text for s in run.steps if s.kind == "result"] == ["42"]
    assert not normal.connected  # the run started it, the run stopped it


def test_a_crash_and_a_hang_fail_only_their_own_calls_and_the_run_goes_on() -> None:
    agent = Agent(
        tools=[local_note],
        mcp_servers=[server("crashing", timeout_s=10), server("hanging", timeout_s=1.5), server("normal")],
    )
    model = ScriptedModel(
        [
            calls(("crash", {}), ("hang", {}), ("add", {"a": 1, "b": 2}), ("local_note", {"text": "x"})),
            calls(("ping", {})),
            answer("done"),
        ]
    )
    run = run_agent_to_end(agent, model, "go")
    assert run.answer == "done"
    results = {s.call.name: s for s in run.steps if s.kind == "result" and s.call is not None}
    assert results["crash"].is_error and "MCP server 'crashing' crashed during 'crash'" in results["crash"].text
    assert results["hang"].is_error and "did not answer 'hang' within 1.5 s" in results["hang"].text
    assert results["add"].text == "3" and results["local_note"].text == "noted: x"
    # Both servers are named `ping`; the second one got its server's prefix. The crashed one fails at once.
    assert results["ping"].is_error and "MCP server 'crashing' is not available" in results["ping"].text
    notices = [s.text for s in run.steps if s.kind == "notice"]
    assert any("MCP server 'crashing' stopped" in n for n in notices)
    # The model read the failures as data, with the hint to correct.
    assert "crashed during 'crash'" in (model.seen[1][-4].content or "")


def test_a_server_that_cannot_start_is_a_notice_naming_the_command_and_the_run_goes_on() -> None:
    agent = Agent(tools=[local_note], mcp_servers=[server("exits_at_start"), server("normal")])
    model = ScriptedModel([calls(("add", {"a": 1, "b": 1})), answer("2")])
    run = run_agent_to_end(agent, model, "go")
    assert run.steps[0].kind == "notice"
    assert "MCP server 'exits_at_start' could not start" in run.steps[0].text
    assert "exits_at_start.py" in run.steps[0].text and "goes on without its tools" in run.steps[0].text
    assert run.answer == "2" and "add" in model.tools_seen[0]


def test_a_huge_mcp_result_is_truncated_with_a_note() -> None:
    model = ScriptedModel([calls(("big", {"n": 50_000})), answer("ok")])
    agent = Agent(mcp_servers=[server("normal")], max_result_chars=1_000)
    run = run_agent_to_end(agent, model, "go")
    result = next(s for s in run.steps if s.kind == "result")
    assert len(result.text) < 1_200 and "[truncated: 49000 more characters of 50000]" in result.text
    assert run.answer == "ok"


def test_a_yaml_agent_with_mcp_servers_over_stdio(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(
        f"""
name: calculator
instructions: Use the tools.
mcp_servers:
  - name: maths
    command: ["{sys.executable}", "{SERVERS / "normal.py"}"]
    timeout_s: 5
  - name: broken
    command: ["{sys.executable}", "{SERVERS / "exits_at_start.py"}"]
""",
        encoding="utf-8",
    )
    agent = load_agent(tmp_path / "agent.yaml")
    assert [s.spec.cwd for s in agent.mcp_servers] == [str(tmp_path), str(tmp_path)]
    model = ScriptedModel([calls(("shout", {"text": "hey"})), answer("HEY")])
    run = run_agent_to_end(agent, model, "shout hey")
    assert run.answer == "HEY" and [s.text for s in run.steps if s.kind == "result"] == ["HEY"]
    assert sum(s.kind == "notice" for s in run.steps) == 1
