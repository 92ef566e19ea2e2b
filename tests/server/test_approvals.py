"""Human approval of code-interpreter calls over HTTP (a real uvicorn server, a scripted stand-in model, the real
sandbox): `"require_approval": "always"` pauses the response at its code calls, one `approval_request` each;
`/v1/approvals` lists and decides them; the last decision starts the continuing response (approved code runs,
denied code never does and the model reads the denial); `approval_response` input items with
`previous_response_id` do the same; each key sees only its own; pending approvals survive a restart."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rixin.server import ServerSettings
from rixin.store import Store, open_store
from rixin.types import ChatResult, GenerationOptions, Message, ToolCall, Usage

from .conftest import Keys
from .helpers import RunningServer, serve_in_thread

MODEL = "approval-model"
GATED: dict[str, Any] = {"type": "code_interpreter", "container": {"type": "auto"}, "require_approval": "always"}
WRITE = re.compile(r"write:(\w+)")


@dataclass
class ApprovalModel:
    """Calls the code interpreter once per `write:NAME` in the user's message (several: parallel calls); the code
    writes /mnt/data/NAME.txt and prints `NAME ran`. After tool results it answers `Results: ` and every result
    of the last turn, in order, joined by ` | `; otherwise it echoes."""

    name: str = MODEL

    def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = "auto",
        parallel_tool_calls: bool = True,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult:
        history = [Message.model_validate(m) if isinstance(m, dict) else m for m in messages]
        offered = {tool.name if hasattr(tool, "name") else tool["function"]["name"] for tool in tools or []}
        last = history[-1]
        if last.role == "tool":
            results: list[str] = []
            for message in reversed(history):
                if message.role != "tool":
                    break
                results.insert(0, " ".join(str(message.content or "").split()))
            text = "Results: " + " | ".join(results)
        else:
            names = WRITE.findall(str(last.content or ""))
            if names and "code_interpreter" in offered and tool_choice != "none":
                calls = [
                    ToolCall.make(
                        "code_interpreter", {"code": f"open('/mnt/data/{n}.txt', 'w').write('x')\nprint('{n} ran')"}
                    )
                    for n in names
                ]
                message = Message(role="assistant", content=None, tool_calls=calls)
                return ChatResult(message=message, finish_reason="tool_calls", usage=Usage(), model=self.name)
            text = "Echo: " + str(last.content or "")
        if on_text is not None:
            on_text(text)
        usage = Usage(prompt_tokens=len(history), completion_tokens=1, total_tokens=len(history) + 1)
        return ChatResult(message=Message(role="assistant", content=text), usage=usage, model=self.name)


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    with serve_in_thread(ServerSettings(), model=ApprovalModel(), store=module_store) as running:
        yield running


class Api:
    """Plain HTTP calls as one key."""

    def __init__(self, server: RunningServer, key: str) -> None:
        self.base, self.headers = server.v1, {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self.headers, timeout=120)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers, timeout=30)

    def ask(self, text: str, **extra: Any) -> dict[str, Any]:
        response = self.post("/responses", {"model": MODEL, "input": text, "tools": [GATED], **extra})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def decide(self, approval_id: str, approve: bool, reason: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"approve": approve, **({"reason": reason} if reason else {})}
        response = self.post(f"/approvals/{approval_id}", body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def pending(self, response_id: str | None = None) -> list[dict[str, Any]]:
        response = self.get("/approvals" + (f"?response_id={response_id}" if response_id else ""))
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def finished(self, response_id: str, timeout_s: float = 90) -> dict[str, Any]:
        """Poll a continuation (it runs with no client waiting) until it ends."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.get(f"/responses/{response_id}")
            assert response.status_code == 200, response.text
            data: dict[str, Any] = response.json()
            if data["status"] not in ("queued", "in_progress"):
                return data
            assert time.monotonic() < deadline, data
            time.sleep(0.1)


@pytest.fixture(scope="module")
def alice(server: RunningServer, keys: Keys) -> Api:
    return Api(server, keys.alice)


@pytest.fixture(scope="module")
def bob(server: RunningServer, keys: Keys) -> Api:
    return Api(server, keys.bob)


def requests_in(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in response["output"] if item["type"] == "approval_request"]


def output_text(response: dict[str, Any]) -> str:
    return "".join(part["text"] for item in response["output"] if item["type"] == "message" for part in item["content"])


def file_names(store: Store, owner: str) -> set[str]:
    return {info.filename for info in store.list_files(owner)}


def assert_paused(response: dict[str, Any], count: int) -> list[dict[str, Any]]:
    assert response["status"] == "incomplete", response
    assert response["incomplete_details"] == {"reason": "approval_required"}
    requests = requests_in(response)
    assert len(requests) == count and len({r["id"] for r in requests}) == count
    for request in requests:
        assert request["id"].startswith("apr_") and request["name"] == "code_interpreter"
        assert "code" in json.loads(request["arguments"])
        assert not [key for key in request if key.startswith("rixin_")]
    assert not [item for item in response["output"] if item["type"] == "code_interpreter_call"]
    return requests


def test_approved_call_runs_and_its_result_feeds_the_model(alice: Api, module_store: Store, keys: Keys) -> None:
    first = alice.ask("please write:approved1")
    (request,) = assert_paused(first, 1)
    assert "approved1" in json.loads(request["arguments"])["code"]
    assert alice.get(f"/responses/{first['id']}").json()["output"] == first["output"]
    assert "approved1.txt" not in file_names(module_store, keys.alice_id)  # nothing ran yet

    (listed,) = alice.pending(first["id"])
    assert listed["id"] == request["id"] and listed["response_id"] == first["id"]
    assert listed["name"] == "code_interpreter" and listed["arguments"] == request["arguments"]
    assert listed["status"] == "pending" and isinstance(listed["created_at"], int)

    decided = alice.decide(request["id"], True)
    assert decided["status"] == "approved" and decided["continued_response_id"].startswith("resp_")
    second = alice.finished(decided["continued_response_id"])
    assert second["status"] == "completed" and second["previous_response_id"] == first["id"]
    run, answer = second["output"]
    assert run["type"] == "code_interpreter_call" and run["status"] == "completed"
    assert run["outputs"][0]["logs"] == "approved1 ran\n"
    assert answer["type"] == "message" and output_text(second).startswith("Results: stdout: approved1 ran")
    assert "approved1.txt" in file_names(module_store, keys.alice_id)

    assert request["id"] not in [a["id"] for a in alice.pending()]
    again = alice.get(f"/approvals/{request['id']}").json()
    assert again["status"] == "approved" and again["continued_response_id"] == second["id"]
    inputs = alice.get(f"/responses/{second['id']}/input_items").json()["data"]
    assert inputs[-1]["type"] == "approval_response" and inputs[-1]["approve"] is True
    assert inputs[-1]["approval_request_id"] == request["id"]

    twice = alice.post(f"/approvals/{request['id']}", {"approve": False})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "approval_already_decided"


def test_denied_call_never_runs_and_the_model_reads_the_denial(alice: Api, module_store: Store, keys: Keys) -> None:
    first = alice.ask("please write:denied1")
    (request,) = assert_paused(first, 1)
    decided = alice.decide(request["id"], False, "not on Fridays")
    assert decided["status"] == "denied" and decided["reason"] == "not on Fridays"
    second = alice.finished(decided["continued_response_id"])
    assert second["status"] == "completed"
    assert [item["type"] for item in second["output"]] == ["message"]  # no code ran
    text = output_text(second)
    assert text.startswith("Results:") and "denied by the user" in text and "not on Fridays" in text
    assert "denied1.txt" not in file_names(module_store, keys.alice_id)


def test_parallel_calls_each_have_an_id_and_are_decided_in_any_order(
    alice: Api, module_store: Store, keys: Keys
) -> None:
    first = alice.ask("please write:par_a and write:par_b")
    one, two = assert_paused(first, 2)
    assert "par_a" in one["arguments"] and "par_b" in two["arguments"]
    assert [a["id"] for a in alice.pending(first["id"])] == [one["id"], two["id"]]

    later = alice.decide(two["id"], True)  # the second first: nothing runs until both are decided
    assert later["status"] == "approved" and later["continued_response_id"] is None
    assert [a["id"] for a in alice.pending(first["id"])] == [one["id"]]
    assert alice.get(f"/responses/{first['id']}").json()["status"] == "incomplete"

    last = alice.decide(one["id"], False)
    second = alice.finished(last["continued_response_id"])
    assert second["status"] == "completed" and alice.pending(first["id"]) == []
    runs = [item for item in second["output"] if item["type"] == "code_interpreter_call"]
    assert [run["outputs"][0]["logs"] for run in runs] == ["par_b ran\n"]
    text = output_text(second)
    # The results reach the model in the order of the calls: the denial of par_a, then par_b's output.
    assert "denied by the user" in text and text.index("denied by the user") < text.index("par_b ran")
    names = file_names(module_store, keys.alice_id)
    assert "par_b.txt" in names and "par_a.txt" not in names


def test_a_key_sees_only_its_own_approvals(alice: Api, bob: Api) -> None:
    first = alice.ask("please write:private1")
    (request,) = assert_paused(first, 1)
    assert request["id"] in [a["id"] for a in alice.pending()]
    assert request["id"] not in [a["id"] for a in bob.pending()]
    for response in (
        bob.get(f"/approvals/{request['id']}"),
        bob.post(f"/approvals/{request['id']}", {"approve": True}),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "approval_not_found"
    answer = {"type": "approval_response", "approval_request_id": request["id"], "approve": True}
    stolen = bob.post(
        "/responses", {"model": MODEL, "previous_response_id": first["id"], "input": [answer], "tools": [GATED]}
    )
    assert stolen.status_code == 404 and stolen.json()["error"]["param"] == "previous_response_id"
    assert alice.get(f"/approvals/{request['id']}").json()["status"] == "pending"  # bob changed nothing
    alice.decide(request["id"], False)


def test_approval_response_items_continue_with_previous_response_id(
    alice: Api, server: RunningServer, keys: Keys, module_store: Store
) -> None:
    client = openai.OpenAI(base_url=server.v1, api_key=keys.alice, max_retries=0, timeout=120)
    first = client.responses.create(model=MODEL, input="please write:item1", tools=[GATED])  # type: ignore[list-item]
    assert first.status == "incomplete" and first.incomplete_details is not None
    assert first.incomplete_details.reason == "approval_required"  # type: ignore[comparison-overlap]
    (request,) = first.output
    assert request.type == "approval_request" and request.id.startswith("apr_")

    answer = {"type": "approval_response", "approval_request_id": request.id, "approve": True}
    body = {"model": MODEL, "previous_response_id": first.id, "input": [answer], "tools": [GATED]}
    second = alice.post("/responses", body)
    assert second.status_code == 200, second.text
    data = second.json()
    assert data["status"] == "completed" and data["previous_response_id"] == first.id
    assert [item["type"] for item in data["output"]] == ["code_interpreter_call", "message"]
    assert output_text(data).startswith("Results: stdout: item1 ran")
    assert "item1.txt" in file_names(module_store, keys.alice_id)

    stored = alice.get(f"/approvals/{request.id}").json()
    assert stored["status"] == "approved" and stored["continued_response_id"] == data["id"]
    assert request.id not in [a["id"] for a in alice.pending()]
    for repeat in (alice.post("/responses", body), alice.post(f"/approvals/{request.id}", {"approve": True})):
        assert repeat.status_code == 409, repeat.text
        assert repeat.json()["error"]["code"] == "approval_already_decided"


def stream_events(api: Api, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream(
        "POST", api.base + "/responses", json={**body, "stream": True}, headers=api.headers, timeout=120
    ) as response:
        assert response.status_code == 200, response.read()
        text = response.read().decode()
    events = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in text.strip().split("\n\n")]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def test_streamed_pause_and_streamed_continuation(alice: Api) -> None:
    events = stream_events(alice, {"model": MODEL, "input": "please write:stream1 write:stream2", "tools": [GATED]})
    assert events[-1]["type"] == "response.incomplete"
    paused = events[-1]["response"]
    requests = assert_paused(paused, 2)
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == requests
    assert [a["id"] for a in alice.pending(paused["id"])] == [r["id"] for r in requests]

    answers = [
        {"type": "approval_response", "approval_request_id": requests[0]["id"], "approve": True},
        {"type": "approval_response", "approval_request_id": requests[1]["id"], "approve": False, "reason": "no"},
    ]
    events = stream_events(
        alice, {"model": MODEL, "previous_response_id": paused["id"], "input": answers, "tools": [GATED]}
    )
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.code_interpreter_call.completed") == 1
    final = events[-1]["response"]
    text = output_text(final)
    assert text.startswith("Results: stdout: stream1 ran") and "denied by the user (no)" in text
    assert text.index("stream1 ran") < text.index("denied by the user")


def test_conversation_continues_in_the_conversation(alice: Api) -> None:
    conversation = alice.post("/conversations", {}).json()
    first = alice.ask("please write:conv1", conversation=conversation["id"])
    (request,) = assert_paused(first, 1)
    decided = alice.decide(request["id"], True)
    assert "continuation_error" not in decided, decided["continuation_error"]
    second = alice.finished(decided["continued_response_id"])
    assert second["status"] == "completed" and second["conversation"] == {"id": conversation["id"]}
    items = alice.get(f"/conversations/{conversation['id']}/items?order=asc").json()["data"]
    assert [item["type"] for item in items] == [
        "message",
        "approval_request",
        "approval_response",
        "code_interpreter_call",
        "message",
    ]
    assert not [key for item in items for key in item if key.startswith("rixin_")]


def test_never_requires_no_approval(alice: Api) -> None:
    response = alice.ask("please write:never1", tools=[{**GATED, "require_approval": "never"}])
    assert response["status"] == "completed"
    assert [item["type"] for item in response["output"]] == ["code_interpreter_call", "message"]


def test_bad_ids_and_requests(alice: Api) -> None:
    for path in ("/approvals/apr_nonsense", "/approvals/apr_0123abcd_1", "/approvals/resp_0123"):
        got, decided = alice.get(path), alice.post(path, {"approve": True})
        for response in (got, decided):
            assert response.status_code == 404, response.text
            assert response.json()["error"] == {
                "message": f"No approval request with id '{path.rsplit('/', 1)[1]}'.",
                "type": "invalid_request_error",
                "param": "approval_id",
                "code": "approval_not_found",
            }

    first = alice.ask("please write:bad1")
    (request,) = assert_paused(first, 1)
    for body in ({"approve": "yes"}, {"approve": True, "extra": 1}, {}):
        response = alice.post(f"/approvals/{request['id']}", body)
        assert response.status_code == 400, response.text

    def cont(items: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        body = {"model": MODEL, "previous_response_id": first["id"], "input": items, "tools": [GATED], **extra}
        return alice.post("/responses", body)

    answer = {"type": "approval_response", "approval_request_id": request["id"], "approve": True}
    unanswered = cont([{"role": "user", "content": "go on"}])
    assert unanswered.status_code == 400 and unanswered.json()["error"]["code"] == "approval_pending"
    unknown = cont([{**answer, "approval_request_id": "apr_ffff_1"}])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["param"] == "input[0].approval_request_id"
    doubled = cont([answer, answer])
    assert doubled.status_code == 400 and doubled.json()["error"]["param"] == "input[1].approval_request_id"
    no_tool = cont([answer], tools=[])
    assert no_tool.status_code == 400 and no_tool.json()["error"]["param"] == "tools"
    assert alice.get(f"/approvals/{request['id']}").json()["status"] == "pending"  # none of those decided it

    cases: list[tuple[dict[str, Any], str]] = [
        ({"tools": [{**GATED, "require_approval": "sometimes"}]}, "tools[0].require_approval"),
        ({"store": False}, "store"),
    ]
    for body, param in cases:
        response = alice.post("/responses", {"model": MODEL, "input": "write:x", "tools": [GATED], **body})
        assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text
    alice.decide(request["id"], False)


def test_pending_approvals_survive_a_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'rixin.db'}"
    store = open_store(db)
    _, secret = store.create_key("carol")
    try:
        with serve_in_thread(ServerSettings(), model=ApprovalModel(), store=store) as server:
            first = Api(server, secret).ask("please write:restart1")
        (request,) = assert_paused(first, 1)
    finally:
        store.close()
    store = open_store(db)  # a new process's view: only what the database holds
    try:
        with serve_in_thread(ServerSettings(), model=ApprovalModel(), store=store) as server:
            api = Api(server, secret)
            assert [a["id"] for a in api.pending()] == [request["id"]]
            second = api.finished(api.decide(request["id"], True)["continued_response_id"])
            assert second["status"] == "completed" and output_text(second).startswith("Results: stdout: restart1 ran")
    finally:
        store.close()
