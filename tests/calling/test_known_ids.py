"""`known_ids`: an id parameter held to the ids of its shape that the conversation holds (rixin.calling.formats)."""

from __future__ import annotations

import dataclasses

import pytest

from rixin.calling import CallingOptions, Engine
from rixin.calling.formats import id_shape, with_known_ids
from rixin.tools import tool
from rixin.types import Message

from .test_formats import grammar_accepts
from .test_repair import ScriptedModel, listed, summary


@tool
def book_flight(flight_id: str, passengers: int) -> str:
    """Book seats on a flight.

    Args:
        flight_id: The id of the flight, e.g. "FL101".
        passengers: How many seats to book.
    """
    return f"booked {flight_id} for {passengers}"


@pytest.mark.parametrize(
    ("description", "text", "ids"),
    [
        ('The id of the flight, e.g. "FL101".', "Book FL301 or FL110, not AB123 or FL.", ["FL110", "FL301"]),
        ("The booking, e.g. BK-7001.", "Cancel BK-7002 and HT-BER-1.", ["BK-7002"]),
        ("The hotel, e.g. HT-MAD-1.", '[{"id": "HT-BER-1"}, {"id": "HT-BER-2"}]', ["HT-BER-1", "HT-BER-2"]),
        ("The event's id, e.g. 'e3'.", "Move e8 to Friday; see e2e tests.", ["e8"]),
        ("The id of the flight.", "Book FL301.", []),  # no example: no shape to go by
    ],
)
def test_id_shape_finds_the_ids_like_the_example(description: str, text: str, ids: list[str]) -> None:
    shape = id_shape(description)
    found = sorted({m.group(0) for m in shape.finditer(text)}) if shape else []
    assert found == ids


def test_with_known_ids_limits_only_id_parameters_with_an_example_to_ids_the_text_holds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "flight_id": {"type": "string", "description": 'e.g. "FL101"'},
            "cell": {"type": "string", "description": 'A cell, e.g. "B3".'},  # not named as an id
            "home_id": {"type": "string", "description": "e.g. h4"},  # no such id in the text
            "eventId": {"type": "string", "enum": ["e1"], "description": "e.g. e3"},  # its own choices
        },
    }
    changed = with_known_ids(schema, "Book FL301 and write B7.")["properties"]
    assert changed["flight_id"]["enum"] == ["FL301"]
    assert "enum" not in changed["cell"] and "enum" not in changed["home_id"]
    assert changed["eventId"]["enum"] == ["e1"]
    assert "enum" not in schema["properties"]["flight_id"]  # a copy: the tool's own schema is unchanged
    assert with_known_ids(schema, "Nothing with an id here.") is schema


def test_the_grammar_holds_an_id_to_those_known() -> None:
    held = dataclasses.replace(book_flight, parameters=with_known_ids(book_flight.parameters, "Book FL301."))
    start = '<c>\n{"name": "book_flight", "arguments": {"flight_id": "'
    assert grammar_accepts(held, start + 'FL301", "passengers": 1}}\n</c>')
    assert not grammar_accepts(held, start + "FL101")


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_holds_ids_to_the_conversations(on: bool) -> None:
    invented = ("book_flight", {"flight_id": "FL101", "passengers": 1})
    written = ("book_flight", {"flight_id": "FL301", "passengers": 1})
    model = ScriptedModel(["<tool_call>", listed(invented), listed(written)])
    options = CallingOptions(plan_calls=False, ground_calls=False, known_ids=on)
    ask = [Message(role="user", content="Book FL301 for one passenger.")]
    result = Engine(model, options).chat(ask, tools=[book_flight])
    # on: the constraint refuses the example's id at its first wrong character, and the repair writes the user's
    assert summary(result) == [written if on else invented]
    first_call = next(a for a in result.attempts if a.stage == "call")
    assert (first_call.error is not None) is on
