"""Bad tool output (not JSON, huge) is converted or truncated with a note; agents used as tools by agents."""

from __future__ import annotations

import datetime
from typing import Any

from rixin.agents import Agent, run_agent_to_end
from rixin.agents.calls import result_as_text
from rixin.tools import Tool, tool
from rixin.types import ChatResult, Message

from .scripted import ScriptedModel, answer, calls


class Opaque:
    def __str__(self) -> str:
        return "<opaque thing>"


def test_json_values_pass_unchanged_and_others_are_converted_with_a_note() -> None:
    assert result_as_text({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert result_as_text("plain") == "plain"
    text = result_as_text({"when": datetime.date(2024, 5, 1), "tags": {"x"}, "raw": b"hi", "obj": Opaque()})
    body, note = text.rsplit("\n", 1)
    assert body == '{"when": "2024-05-01", "tags": ["x"], "raw": "hi", "obj": "<opaque thing>"}'
    assert note.startswith("[note: values that are not JSON (") and "date" in note and "Opaque" in note
    assert "[note:" in result_as_text(float("nan"))
    assert result_as_text(b"\xff\xfe").startswith('"<2 bytes of binary data>"')


def test_circular_and_odd_keys_fall_back_to_repr() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert "shown as Python's repr" in result_as_text(loop)
    assert result_as_text({(1, 2): "pair"}).startswith("{(1, 2): 'pair'}")


def test_huge_results_are_truncated_with_a_note() -> None:
    text = result_as_text("y" * 50_000, limit=1_000)
    assert text.startswith("y" * 1_000) and text.endswith("[truncated: 49000 more characters of 50000]")
    converted = result_as_text([Opaque()] * 10_000, limit=1_000)
    assert "[truncated:" in converted and converted.endswith("were converted to text]")


def test_the_run_goes_on_after_bad_output() -> None:
    @tool
    def weird() -> str:
        """Returns something odd."""
        return {"when": datetime.datetime(2024, 1, 1, 12, 0), "big": "z" * 100_000}  # type: ignore[return-value]

    model = ScriptedModel([calls(("weird", {})), answer("ok")])
    run = run_agent_to_end(Agent(tools=[weird]), model, "go")
    result = run.steps[1]
    assert not result.is_error and "2024-01-01 12:00:00" in result.text and "[truncated:" in result.text
    assert run.answer == "ok"


def test_an_agent_as_a_tool_runs_with_the_callers_model_and_returns_its_answer() -> None:
    @tool
    def population(city: str) -> int:
        """Population of a city.

        Args:
            city: name
        """
        return {"Paris": 2_100_000}[city]

    helper = Agent(name="researcher", description="Looks facts up.", tools=[population], instructions="Be exact.")

    def sub_turn(expected_task: str, reply: ChatResult) -> Any:
        def turn(conversation: list[Message]) -> ChatResult:
            assert conversation[0].content == "Be exact." and conversation[1].content == expected_task
            return reply

        return turn

    # One scripted model plays both: the caller's turns and, in between, the helper's.
    model = ScriptedModel(
        [
            calls(("researcher", {"task": "Population of Paris?"})),
            sub_turn("Population of Paris?", calls(("population", {"city": "Paris"}))),
            answer("2.1 million"),
            answer("Paris has 2.1 million people."),
        ]
    )
    caller = Agent(name="writer", tools=[helper.as_tool()])
    assert caller.tools[0].name == "researcher" and caller.tools[0].description == "Looks facts up."
    run = run_agent_to_end(caller, model, "Write about Paris")
    assert [s.text for s in run.steps if s.kind == "result"] == ["2.1 million"]
    assert run.answer == "Paris has 2.1 million people."


def test_a_sub_agent_without_an_answer_is_an_error_for_the_caller() -> None:
    helper = Agent(name="helper", max_turns=1, tools=[Tool("noop", "does nothing", {"type": "object"}, lambda: "x")])
    sub_model = ScriptedModel([calls(("noop", {}))])
    caller_model = ScriptedModel([calls(("helper", {"task": "loop"})), answer("gave up")])
    run = run_agent_to_end(Agent(tools=[helper.as_tool(model=sub_model)]), caller_model, "go")
    result = run.steps[1]
    assert result.is_error and "agent 'helper' gave no answer (limit: no answer after 1 turns)" in result.text


def test_as_tool_names_are_made_valid() -> None:
    assert Agent(name="my agent!").as_tool().name == "my_agent"
    assert Agent(name="x").as_tool(name="helper", description="Helps.").description == "Helps."
