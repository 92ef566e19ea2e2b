"""Human approval: calls wait with their own ids (parallel calls included), decided now or later from another
thread; denials reach the model as data."""

from __future__ import annotations

import json
import threading
import time

import pytest

from rixin.agents import (
    Agent,
    ApprovalError,
    ApprovalQueue,
    PendingApproval,
    Step,
    needs_approval,
    run_agent,
    run_agent_to_end,
)
from rixin.tools import tool
from rixin.types import ToolCall

from .scripted import ScriptedModel, answer, calls

sent: list[str] = []


@tool
def send_email(to: str) -> str:
    """Send an email.

    Args:
        to: the address
    """
    sent.append(to)
    return f"sent to {to}"


@tool
def lookup(name: str) -> str:
    """Find an address.

    Args:
        name: whose
    """
    return f"{name}@example.com"


def test_the_queue_lists_decides_and_waits() -> None:
    queue = ApprovalQueue()
    first = queue.submit(ToolCall.make("send_email", {"to": "a"}), run_id="r1")
    second = queue.submit(ToolCall.make("send_email", {"to": "b"}), run_id="r2")
    assert first.id != second.id
    assert [e.id for e in queue.pending()] == [first.id, second.id]
    assert [e.id for e in queue.pending("r2")] == [second.id]
    assert queue.pending()[0].to_dict()["call"]["arguments"] == {"to": "a"}
    queue.decide(second.id, False, "not now")
    with pytest.raises(ApprovalError, match="already decided"):
        queue.decide(second.id, True)
    with pytest.raises(ApprovalError, match="no pending approval"):
        queue.decide("appr_nope", True)
    threading.Timer(0.2, queue.decide, (first.id, True)).start()
    decided = queue.wait([first.id, second.id], timeout_s=10)
    assert decided[first.id].approved is True and (decided[second.id].approved, decided[second.id].reason) == (
        False,
        "not now",
    )
    assert queue.pending() == [] and queue.get(first.id) is None  # forgotten once read


def test_an_undecided_approval_is_denied_after_the_timeout() -> None:
    queue = ApprovalQueue()
    entry = queue.submit(ToolCall.make("send_email", {"to": "a"}))
    started = time.monotonic()
    decided = queue.wait([entry.id], timeout_s=0.2)
    assert decided[entry.id].approved is False and "no decision within 0.2 s" in decided[entry.id].reason
    assert time.monotonic() - started < 2


def test_parallel_calls_pause_with_one_id_each_and_resume_on_decisions_from_another_thread() -> None:
    sent.clear()
    queue = ApprovalQueue()
    model = ScriptedModel(
        [
            calls(("send_email", {"to": "ann"}), ("lookup", {"name": "bob"}), ("send_email", {"to": "eve"})),
            answer("Sent to ann; eve was refused."),
        ]
    )
    agent = Agent(tools=[send_email, lookup], approval={"send_email"})
    steps: list[Step] = []
    run = run_agent(agent, model, "email ann and eve", approver=queue, run_id="run-7")
    for step in run:
        steps.append(step)
        # Decided later, by someone else, in reverse order, once both are listed as pending.
        if step.kind == "approval" and sum(s.kind == "approval" for s in steps) == 2:
            ids = [e.id for e in queue.pending("run-7")]
            assert len(ids) == 2

            def decide(ids: list[str] = ids) -> None:
                time.sleep(0.2)
                queue.decide(ids[1], False, "not her")
                queue.decide(ids[0], True)

            threading.Thread(target=decide).start()
    approvals = [s for s in steps if s.kind == "approval"]
    assert [s.call.name for s in approvals if s.call] == ["send_email", "send_email"]
    assert len({s.approval_id for s in approvals}) == 2
    assert sent == ["ann"]  # only the approved call ran
    results = {
        json.loads(s.call.function.arguments).get("to", "lookup"): s for s in steps if s.kind == "result" and s.call
    }
    assert results["ann"].text == "sent to ann" and results["lookup"].text == "bob@example.com"
    assert "denied by the user (not her)" in results["eve"].text and not results["eve"].is_error
    assert steps[-1].text == "Sent to ann; eve was refused."
    assert "denied by the user" in (model.seen[1][-1].content or "")  # the model read the denial as data


def test_a_callable_approver_is_asked_per_call_and_a_repeat_of_a_denied_call_is_not_asked_again() -> None:
    sent.clear()
    asked: list[str] = []

    def approver(entry: PendingApproval) -> bool:
        asked.append(entry.call.function.arguments)
        return "ok" in entry.call.function.arguments

    model = ScriptedModel(
        [
            calls(("send_email", {"to": "no"})),
            calls(("send_email", {"to": "no"})),
            calls(("send_email", {"to": "ok"})),
            answer("done"),
        ]
    )
    run = run_agent_to_end(Agent(tools=[needs_approval(send_email)]), model, "go", approver=approver)
    assert run.answer == "done" and sent == ["ok"]
    assert asked == ['{"to": "no"}', '{"to": "ok"}']
    results = [s.text for s in run.steps if s.kind == "result"]
    assert "already denied" in results[1]


def test_without_an_approver_gated_calls_are_denied_and_a_broken_approver_denies() -> None:
    sent.clear()
    model = ScriptedModel([calls(("send_email", {"to": "x"})), answer("could not")])
    run = run_agent_to_end(Agent(tools=[send_email], approval={"send_email"}), model, "go")
    assert sent == [] and "no one can approve" in next(s.text for s in run.steps if s.kind == "result")

    def broken(_: PendingApproval) -> bool:
        raise RuntimeError("lost connection")

    model = ScriptedModel([calls(("send_email", {"to": "x"})), answer("could not")])
    run = run_agent_to_end(Agent(tools=[send_email], approval={"send_email"}), model, "go", approver=broken)
    assert sent == [] and "the approver failed: RuntimeError: lost connection" in run.steps[-2].text


def test_the_agent_approval_timeout_denies() -> None:
    model = ScriptedModel([calls(("send_email", {"to": "x"})), answer("timed out")])
    agent = Agent(tools=[send_email], approval={"send_email"}, approval_timeout_s=0.1)
    run = run_agent_to_end(agent, model, "go", approver=ApprovalQueue())
    assert "no decision within 0.1 s" in run.steps[-2].text and run.answer == "timed out"
