"""YAML agents: fields, tool references relative to the file, and errors that name the line and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rixin.agents import Agent, AgentConfigError, load_agent, run_agent_to_end

from .scripted import ScriptedModel, answer, calls

TOOLS_PY = '''
from rixin.tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first
        b: second
    """
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: first
        b: second
    """
    return a * b


NOT_A_TOOL = 3
'''


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_full_agent_loads_with_tools_relative_to_its_file(tmp_path: Path) -> None:
    write(tmp_path, "lib/maths.py", TOOLS_PY)
    path = write(
        tmp_path,
        "agents/calc.yaml",
        """
        name: calc
        description: Does arithmetic.
        model: qwen2.5-coder-0.5b
        instructions: |
          Use the tools for arithmetic.
        tools:
          - ../lib/maths.py:add
          - ../lib/maths.py:multiply
          - rixin.cli.demo_tools:get_weather
        approval: [multiply]
        max_turns: 3
        max_tool_calls: 5
        time_budget_s: 60
        """,
    )
    agent = load_agent(path)
    assert isinstance(agent, Agent)
    assert (agent.name, agent.model, agent.description) == ("calc", "qwen2.5-coder-0.5b", "Does arithmetic.")
    assert agent.instructions == "Use the tools for arithmetic.\n"
    assert [t.name for t in agent.tools] == ["add", "multiply", "get_weather"]
    assert agent.approval == {"multiply"} and agent.max_turns == 3 and agent.time_budget_s == 60
    model = ScriptedModel([calls(("add", {"a": 2, "b": 3})), answer("5")])
    assert run_agent_to_end(agent, model, "2+3").answer == "5"


def test_a_whole_module_and_the_code_interpreter_by_name(tmp_path: Path) -> None:
    write(tmp_path, "maths.py", TOOLS_PY)
    path = write(tmp_path, "a.yaml", "name: a\ntools: [maths.py, code_interpreter]\n")
    with load_agent(path) as agent:
        assert [t.name for t in agent.tools] == ["add", "code_interpreter"]
        assert agent.code_interpreter is not None  # no session until the first call


def test_the_smallest_agent() -> None:
    agent = Agent()
    assert agent.max_turns == 8 and agent.tools == []


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("name: a\nmax_turns: zero\n", 2, "max_turns", "valid integer"),
        ("name: a\ninstructions: hi\nmax_turn: 3\n", 3, "max_turn", "unknown field"),
        ("instructions: hi\n", 1, "name", "missing required field"),
        (
            "name: a\nmcp_servers:\n  - name: m\n    command: python server.py\n",
            4,
            "mcp_servers[0].command",
            "valid list",
        ),
        ("name: a\nmcp_servers:\n  - name: m\n", 3, "mcp_servers[0]", "exactly one of 'command'"),
        (
            "name: a\nmcp_servers:\n  - name: m\n    url: http://h/mcp\n    timeout_s: -1\n",
            5,
            "mcp_servers[0].timeout_s",
            "greater than 0",
        ),
        ("name: a\ntools:\n  - code_interpreter\n  - web_browser\n", 4, "tools[1]", "unknown tool 'web_browser'"),
        ("name: a\ntools:\n  - missing.py:f\n", 3, "tools[0]", "no such file"),
        ("name: a\nopenapi:\n  - base_url: http://h\n", 3, "openapi[0]", "exactly one of 'url' or 'path'"),
        ("name: has space\n", 1, "name", "should match pattern"),
    ],
)
def test_invalid_agents_name_the_line_and_the_field(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(AgentConfigError) as error:
        load_agent(path)
    message = str(error.value)
    assert f"bad.yaml, line {line}, field {field}: " in message and problem in message


def test_yaml_syntax_errors_and_wrong_shapes_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "name: a\ntools: [code_interpreter\nmax_turns: 2\n")
    with pytest.raises(AgentConfigError, match=r"broken.yaml, line \d+: not valid YAML"):
        load_agent(path)
    with pytest.raises(AgentConfigError, match="line 1: an agent file must be a mapping"):
        load_agent(write(tmp_path, "list.yaml", "- a\n- b\n"))
    with pytest.raises(AgentConfigError, match="cannot read agent file"):
        load_agent(tmp_path / "absent.yaml")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "many.yaml", "name: a\nmax_turns: 0\nself_correct: maybe\n")
    with pytest.raises(AgentConfigError) as error:
        load_agent(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 2 and "line 2, field max_turns" in lines[0] and "line 3, field self_correct" in lines[1]


def test_a_tool_module_that_fails_to_import_and_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "raise RuntimeError('no config')\n")
    with pytest.raises(AgentConfigError, match=r"line 3, field tools\[0\]: .*broken.py: cannot import.*no config"):
        load_agent(write(tmp_path, "a.yaml", "name: a\ntools:\n  - broken.py:f\n"))
    write(tmp_path, "maths.py", TOOLS_PY)
    with pytest.raises(AgentConfigError, match="duplicate name"):
        load_agent(write(tmp_path, "b.yaml", "name: b\ntools: [maths.py:add, maths.py]\n"))
    with pytest.raises(AgentConfigError, match="neither a function nor a Tool"):
        load_agent(write(tmp_path, "c.yaml", "name: c\ntools: ['maths.py:NOT_A_TOOL']\n"))


def test_another_agent_file_is_a_tool_and_a_loop_of_agents_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "helper.yaml", "name: helper\ndescription: Answers questions about cats.\n")
    agent = load_agent(write(tmp_path, "main.yaml", "name: main\ntools: [helper.yaml]\n"))
    assert [(t.name, t.description) for t in agent.tools] == [("helper", "Answers questions about cats.")]
    write(tmp_path, "ping.yaml", "name: ping\ntools: [pong.yaml]\n")
    write(tmp_path, "pong.yaml", "name: pong\ntools: [ping.yaml]\n")
    with pytest.raises(AgentConfigError, match="uses itself as a tool"):
        load_agent(tmp_path / "ping.yaml")
