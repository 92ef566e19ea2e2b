"""`lookup_first` and `retry_other_tools` on the engine's endpoint path: the engine talks HTTP to rixin's own
server (a real uvicorn server) in front of a scripted stand-in model, so which tools each request offers decides
what comes back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from rixin.calling import CallingOptions, Engine
from rixin.models import EndpointModel
from rixin.server import ServerSettings
from rixin.store import open_store
from rixin.tools import tool
from rixin.types import Message
from server.helpers import ScriptedModel, serve_in_thread

# The first script whose word is in the request and whose tool is offered answers: the action first, on an id
# nobody gave; the lookup when only the tools that read are offered.
SCRIPTS = {
    "cancel": ("cancel_event", {"event_id": "e3"}),
    "12:30": ("list_events", {"date": "2025-07-14"}),
}
ASK = [Message(role="user", content="Cancel whatever I have at 12:30 on 2025-07-14.")]


@tool(read_only=True)
def list_events(date: str) -> list[dict[str, str]]:
    """List the events of a day.

    Args:
        date: The day, as YYYY-MM-DD.
    """
    return [{"id": "e3", "start": "12:30"}]


@tool
def cancel_event(event_id: str) -> str:
    """Cancel an event.

    Args:
        event_id: The event's id, e.g. "e1".
    """
    return "cancelled"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointModel]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'rixin.db'}")
    _, secret = store.create_key("tester")
    with serve_in_thread(ServerSettings(), model=ScriptedModel(scripts=SCRIPTS), store=store) as running:
        yield EndpointModel(running.v1, "scripted-model", api_key=secret, timeout=30)
    store.close()


def calls(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    result = engine.chat(ASK, tools=[list_events, cancel_event])
    assert result.error is None
    return [(c.function.name, json.loads(c.function.arguments)) for c in result.message.tool_calls or []]


@pytest.mark.parametrize("option", ["lookup_first", "retry_other_tools"])
def test_a_second_chance_asks_the_endpoint_again_with_fewer_tools(endpoint: EndpointModel, option: str) -> None:
    # lookup_first: only the tools that read; retry_other_tools: those the dropped calls did not use
    engine = Engine(endpoint, CallingOptions(**{option: True}))
    assert calls(engine) == [("list_events", {"date": "2025-07-14"})]


def test_without_lookup_first_the_endpoint_is_asked_for_words(endpoint: EndpointModel) -> None:
    result = Engine(endpoint, CallingOptions()).chat(ASK, tools=[list_events, cancel_event])
    assert not result.message.tool_calls
    assert [a.stage for a in result.attempts] == ["call", "answer"]
    assert "values not found" in (result.attempts[0].error or "")


def test_no_lookup_when_no_tool_says_it_only_reads(endpoint: EndpointModel) -> None:
    unmarked = dataclasses.replace(list_events, read_only=False)
    result = Engine(endpoint, CallingOptions(lookup_first=True)).chat(ASK, tools=[unmarked, cancel_event])
    assert not result.message.tool_calls
    assert [a.stage for a in result.attempts] == ["call", "answer"]
