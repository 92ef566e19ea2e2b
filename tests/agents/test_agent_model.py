"""Agents on the real embedded Qwen2.5-Coder-0.5B (greedy, one thread): a two-step tool task, a recovered tool
error, an MCP tool call, and an approval pause and resume."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rixin.agents import Agent, ApprovalQueue, Step, run_agent, run_agent_to_end
from rixin.plugins import McpServer, McpServerSpec
from rixin.tools import tool

if TYPE_CHECKING:
    from rixin.calling import Engine

pytestmark = pytest.mark.model
SERVERS = Path(__file__).parent.parent / "plugins" / "servers"
USERS = {"alice": 17, "bob": 23}
ORDERS = {17: ["lamp", "desk", "chair"], 23: ["pen"]}


@tool
def find_user(name: str) -> int:
    """Find a user's numeric id by their name.

    Args:
        name: the user's name, lower case
    """
    if name.lower() not in USERS:
        raise KeyError(f"no user named {name!r}")
    return USERS[name.lower()]


@tool
def list_orders(user_id: int) -> list[str]:
    """List the orders of a user, by the user's numeric id (get it with find_user first).

    Args:
        user_id: the numeric id from find_user
    """
    if user_id not in ORDERS:
        raise KeyError(f"no user with id {user_id}; call find_user to get the id")
    return ORDERS[user_id]


def names_and_arguments(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.call.name, s.call.function.arguments) for s in steps if s.kind == "call" and s.call]


def test_a_two_step_task_uses_the_first_result_in_the_second_call(qwen_engine: Engine) -> None:
    agent = Agent(tools=[find_user, list_orders], max_turns=4, max_tokens=96, parallel_tool_calls=False)
    task = "Find the id of the user alice, then list her orders, then tell me the items she ordered."
    run = run_agent_to_end(agent, qwen_engine, task)
    calls = names_and_arguments(run.steps)
    assert calls[:2] == [("find_user", '{"name": "alice"}'), ("list_orders", '{"user_id": 17}')]
    assert run.answer is not None and all(item in run.answer.lower() for item in ORDERS[17])


def test_a_failed_call_is_corrected_from_the_error(qwen_engine: Engine) -> None:
    @tool
    def stock_price(symbol: str) -> float:
        """The latest price of a stock.

        Args:
            symbol: the ticker symbol
        """
        if symbol != symbol.upper():
            raise ValueError(f"unknown symbol {symbol!r}: ticker symbols are upper case, e.g. {symbol.upper()!r}")
        return {"AAPL": 187.5}.get(symbol, 10.0)

    agent = Agent(tools=[stock_price], max_turns=4, max_tokens=96, seed=0)  # the retry samples: seeded
    run = run_agent_to_end(agent, qwen_engine, "Call stock_price with symbol 'aapl' and tell me the price.")
    results = [s for s in run.steps if s.kind == "result"]
    assert results[0].is_error and "upper case" in results[0].text  # the model copied the lower-case symbol
    assert any(not r.is_error and r.text == "187.5" for r in results[1:])  # and fixed it from the error
    assert run.answer is not None and "187.5" in run.answer


def test_an_mcp_tool_is_called(qwen_engine: Engine) -> None:
    normal = McpServerSpec(name="maths", command=[sys.executable, str(SERVERS / "normal.py")], timeout_s=30)
    agent = Agent(mcp_servers=[McpServer(normal)], max_turns=3, max_tokens=96)
    run = run_agent_to_end(agent, qwen_engine, "Use the add tool to add 1234 and 4321.")
    assert ("add", '{"a": 1234, "b": 4321}') in names_and_arguments(run.steps)
    assert next(s.text for s in run.steps if s.kind == "result") == "5555"
    assert run.answer is not None and "5555" in run.answer


def test_an_approval_pauses_the_run_until_a_person_decides(qwen_engine: Engine) -> None:
    deleted: list[str] = []

    @tool
    def delete_file(path: str) -> str:
        """Delete a file.

        Args:
            path: the file's path
        """
        deleted.append(path)
        return f"{path} deleted"

    queue = ApprovalQueue()
    agent = Agent(tools=[delete_file], approval={"delete_file"}, max_turns=3, max_tokens=96)
    steps: list[Step] = []
    decided = threading.Event()
    for step in run_agent(agent, qwen_engine, "Delete the file report.txt", approver=queue, run_id="r1"):
        steps.append(step)
        if step.kind == "approval":
            [pending] = queue.pending("r1")
            assert pending.id == step.approval_id and deleted == []  # paused: nothing ran yet

            # The decision comes later, from elsewhere (as a server's HTTP handler would make it).
            def approve(approval_id: str = pending.id) -> None:
                queue.decide(approval_id, True)
                decided.set()

            threading.Timer(0.5, approve).start()
    assert decided.is_set() and deleted == ["report.txt"]
    kinds = [s.kind for s in steps]
    assert kinds[:3] == ["call", "approval", "result"] and kinds[-1] == "answer"
