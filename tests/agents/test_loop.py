"""The agent loop's mechanics, driven by a scripted model (the real-model runs are in test_agent_model.py)."""

from __future__ import annotations

import threading
import time

from rixin.agents import Agent, run_agent, run_agent_to_end
from rixin.tools import Tool, tool
from rixin.types import ChatResult, Message

from .scripted import ScriptedModel, calls, sampling, tool_choices


def answer(text: str) -> ChatResult:
    """An answer that reports no usage (the tests of token counts count only the calls' usage)."""
    return ChatResult(message=Message(role="assistant", content=text))


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first
        b: second
    """
    return a + b


@tool
def fail(reason: str) -> str:
    """Always fails.

    Args:
        reason: why
    """
    raise RuntimeError(f"failed: {reason}")


def test_calls_are_executed_and_results_fed_back_until_an_answer() -> None:
    model = ScriptedModel([calls(("add", {"a": 2, "b": 3})), answer("It is 5.")])
    agent = Agent(instructions="Be brief.", tools=[add])
    run = run_agent_to_end(agent, model, "What is 2+3?")
    assert run.answer == "It is 5."
    assert [s.kind for s in run.steps] == ["call", "result", "answer"]
    assert run.steps[1].text == "5" and not run.steps[1].is_error
    second_prompt = model.seen[1]
    assert [m.role for m in second_prompt] == ["system", "user", "assistant", "tool"]
    assert second_prompt[-1].content == "5" and second_prompt[-1].tool_call_id == second_prompt[2].tool_calls[0].id
    assert run.usage.total_tokens == 15
    first = run.to_dict()["steps"][0]["call"]
    assert first["name"] == "add" and first["arguments"] == {"a": 2, "b": 3}


def test_tool_errors_go_back_as_data_and_the_run_goes_on() -> None:
    model = ScriptedModel([calls(("fail", {"reason": "x"})), answer("The tool failed.")])
    run = run_agent_to_end(Agent(tools=[fail]), model, "try")
    result = run.steps[1]
    assert result.kind == "result" and result.is_error and "RuntimeError: failed: x" in result.text
    assert run.answer == "The tool failed."


def test_unknown_tool_and_bad_arguments_are_errors_the_model_sees() -> None:
    model = ScriptedModel([calls(("nope", {}), ("add", {"a": "two", "b": 1})), answer("ok")])
    run = run_agent_to_end(Agent(tools=[add]), model, "go")
    results = [s for s in run.steps if s.kind == "result"]
    assert all(r.is_error for r in results)
    assert "unknown tool 'nope'" in results[0].text and "invalid arguments" in results[1].text


def test_a_repeated_failing_call_is_refused_not_rerun_and_the_run_stops_when_it_persists() -> None:
    runs: list[str] = []

    @tool
    def flaky(reason: str) -> str:
        """Always fails.

        Args:
            reason: why
        """
        runs.append(reason)
        raise RuntimeError(f"failed: {reason}")

    model = ScriptedModel([calls(("flaky", {"reason": "x"})) for _ in range(8)])
    run = run_agent_to_end(Agent(tools=[flaky], max_repeated_failures=2), model, "go")
    assert runs == ["x"]  # executed once; the repeats were refused
    results = [s for s in run.steps if s.kind == "result"]
    assert "The call failed" in results[0].text
    assert all("already failed with: " in r.text and "RuntimeError: failed: x" in r.text for r in results[1:])
    assert run.answer is None and run.steps[-1].kind == "limit" and "repeating" in run.steps[-1].text
    # each repeat was drawn twice (the second time hotter) before it was refused: 1 + 3 × 2 turns
    assert len(results) == 4 and len(model.turns) == 1


def test_a_retry_that_repeats_the_failed_call_is_drawn_again_hotter() -> None:
    script = [calls(("add", {"a": "x", "b": 1})), calls(("add", {"a": "x", "b": 1})), calls(("add", {"a": 1, "b": 1}))]
    model = ScriptedModel([*script, answer("2")])
    run = run_agent_to_end(Agent(tools=[add], seed=5), model, "1+1")
    assert run.answer == "2" and sampling(model) == [(0.0, 5), (0.7, 5), (1.0, 7), (0.0, 5)]
    assert [s.kind for s in run.steps] == ["call", "result", "call", "result", "answer"]
    off = ScriptedModel([script[0], script[1], answer("no")])
    run_agent_to_end(Agent(tools=[add], self_correct=False), off, "1+1")  # no redraw without self-correction
    assert len(off.turns) == 1


def test_after_a_failure_the_model_samples_and_can_recover() -> None:
    model = ScriptedModel([calls(("add", {"a": "x", "b": 1})), calls(("add", {"a": 1, "b": 1})), answer("2")])
    run = run_agent_to_end(Agent(tools=[add], retry_temperature=0.4), model, "1+1")
    assert run.answer == "2" and [temperature for temperature, _ in sampling(model)] == [0.0, 0.4, 0.0]
    plain = ScriptedModel([calls(("add", {"a": "x", "b": 1})), calls(("add", {"a": "x", "b": 1}))])
    stopped = run_agent_to_end(Agent(tools=[add], self_correct=False), plain, "1+1")
    assert stopped.steps[-1].kind == "limit" and "The call failed" not in stopped.steps[1].text


def test_first_tool_choice_applies_to_the_first_turn_only() -> None:
    model = ScriptedModel([calls(("add", {"a": 1, "b": 1})), answer("2")])
    run = run_agent_to_end(Agent(tools=[add], first_tool_choice="required"), model, "1+1")
    assert run.answer == "2" and tool_choices(model) == ["required", "auto"]
    plain = ScriptedModel([answer("2")])
    run_agent_to_end(Agent(tools=[add]), plain, "1+1")
    assert tool_choices(plain) == ["auto"]


def test_after_a_failed_call_the_next_turns_must_call_a_bounded_number_of_times() -> None:
    script = [calls(("fail", {"reason": "a"})), calls(("fail", {"reason": "b"})), calls(("fail", {"reason": "c"}))]
    model = ScriptedModel([*script, answer("gave up")])
    run = run_agent_to_end(Agent(tools=[fail], forced_retries=2), model, "go")
    assert tool_choices(model) == ["auto", "required", "required", "auto"] and run.answer == "gave up"

    # a refused repeat did not run: nothing new failed, so the next turn is free again
    again = [calls(("fail", {"reason": "a"})), calls(("fail", {"reason": "a"})), calls(("fail", {"reason": "a"}))]
    model = ScriptedModel([*again, answer("sorry")])
    run_agent_to_end(Agent(tools=[fail]), model, "go")
    assert tool_choices(model) == ["auto", "required", "required", "auto"]  # turn 2 drew twice (redraw)

    model = ScriptedModel([script[0], answer("no")])  # without self-correction the model is left free
    run_agent_to_end(Agent(tools=[fail], self_correct=False), model, "go")
    assert tool_choices(model) == ["auto", "auto"]


def test_turn_and_call_limits() -> None:
    looping = ScriptedModel([calls(("add", {"a": i, "b": 1})) for i in range(5)])
    run = run_agent_to_end(Agent(tools=[add], max_turns=3), looping, "loop")
    assert run.steps[-1].kind == "limit" and "3 turns" in run.steps[-1].text
    many = ScriptedModel([calls(*[("add", {"a": i, "b": 1}) for i in range(4)])])
    run = run_agent_to_end(Agent(tools=[add], max_tool_calls=3), many, "many")
    assert run.steps[-1].kind == "limit" and "more than 3 tool calls" in run.steps[-1].text


def test_time_budget_stops_between_turns() -> None:
    @tool
    def slow() -> str:
        """Takes a while."""
        time.sleep(0.3)
        return "done"

    model = ScriptedModel([calls(("slow", {})), calls(("slow", {})), answer("x")])
    run = run_agent_to_end(Agent(tools=[slow], time_budget_s=0.2), model, "go")
    assert run.steps[-1].kind == "limit" and "time budget" in run.steps[-1].text


def test_parallel_calls_run_at_the_same_time_and_keep_their_order() -> None:
    barrier = threading.Barrier(3, timeout=5)

    @tool
    def meet(tag: str) -> str:
        """Waits for the other calls; only returns if all three run at once.

        Args:
            tag: a label
        """
        barrier.wait()
        return tag

    model = ScriptedModel([calls(("meet", {"tag": "a"}), ("meet", {"tag": "b"}), ("meet", {"tag": "c"})), answer("ok")])
    run = run_agent_to_end(Agent(tools=[meet]), model, "go")
    assert [s.text for s in run.steps if s.kind == "result"] == ["a", "b", "c"]
    assert run.answer == "ok"


def test_model_error_ends_the_run_with_an_error_step() -> None:
    model = ScriptedModel([ChatResult(message=Message(role="assistant"), error="no valid call", finish_reason="error")])
    run = run_agent_to_end(Agent(tools=[add]), model, "go")
    assert run.answer is None and run.steps[-1].kind == "error" and run.steps[-1].text == "no valid call"


def test_a_fenced_python_answer_runs_as_a_code_interpreter_call() -> None:
    ran: list[str] = []
    code_tool = Tool(
        name="code_interpreter",
        description="run python",
        parameters={"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
        function=lambda code: ran.append(code) or "stdout:\n4",
    )
    model = ScriptedModel([answer("Let me compute:\n```python\nprint(2 + 2)\n```"), answer("It is 4.")])
    run = run_agent_to_end(Agent(tools=[code_tool]), model, "2+2?")
    assert ran == ["print(2 + 2)"]
    assert [s.kind for s in run.steps] == ["call", "result", "answer"]
    assert model.seen[1][-2].tool_calls and model.seen[1][-1].role == "tool"
    # Without the code interpreter, the same text is just the answer.
    plain = run_agent_to_end(Agent(tools=[add]), ScriptedModel([answer("```python\nx\n```")]), "q")
    assert plain.answer == "```python\nx\n```"


def test_history_is_extended_in_place_for_a_follow_up() -> None:
    history: list[Message] = []
    model = ScriptedModel([answer("first"), answer("second")])
    agent = Agent(instructions="sys", tools=[add])
    assert list(run_agent(agent, model, "one", history=history))[-1].text == "first"
    assert list(run_agent(agent, model, "two", history=history))[-1].text == "second"
    assert [m.role for m in history] == ["system", "user", "assistant", "user", "assistant"]


def test_a_model_that_raises_ends_the_run_with_an_error_step_not_a_crash() -> None:
    def overflow(conversation: list[Message]) -> ChatResult:
        raise ValueError("prompt of 9000 tokens does not fit the context (8192)")

    run = run_agent_to_end(Agent(tools=[add]), ScriptedModel([overflow]), "go")
    assert run.answer is None and run.steps[-1].kind == "error" and "does not fit the context" in run.steps[-1].text
