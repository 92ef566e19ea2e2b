"""schemathesis against the server's own `/openapi.json`: every operation gets generated requests, valid and
invalid (positive and negative modes: wrong types, missing and unknown fields, odd strings and numbers, bad
multipart bodies, missing or wrong keys), sent with a valid key unless the case changes it, to a real uvicorn server
(a scripted stand-in model, so a request that passes validation is answered at once). No case may get a 5xx. The
count of cases tried, and their status codes, are printed at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from rixin.server import ServerSettings
from rixin.store import Store

from .conftest import SUMMARY, Keys
from .helpers import RunningServer, ScriptedModel, serve_in_thread

MODEL = "scripted-model"
EXAMPLES = 50
"""Examples per operation and generation mode."""
TRIED: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []
STATUS: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    settings_ = ServerSettings(max_body_bytes=256 * 1024, max_file_bytes=256 * 1024)
    with serve_in_thread(settings_, model=ScriptedModel(), store=module_store) as running:
        yield running


def existing_records(server: RunningServer, headers: dict[str, str]) -> dict[str, str]:
    with httpx.Client(base_url=server.v1, headers=headers, timeout=30) as http:
        conversation = http.post("/conversations", json={"items": [{"role": "user", "content": "hi"}]}).json()
        file = http.post("/files", files={"file": ("a.csv", b"a\n1\n")}, data={"purpose": "user_data"}).json()
        response = http.post("/responses", json={"model": MODEL, "input": "hi"}).json()
    return {
        "conversation_id": conversation["id"],
        "file_id": file["id"],
        "response_id": response["id"],
        "model": MODEL,
    }


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], ids: dict[str, str]) -> Callable[[], None]:
    """A Hypothesis test that sends `EXAMPLES` generated requests for `operation` and records any 5xx. Every
    other case names records that exist (`ids`; never for DELETE), so that it gets past the lookup."""
    label = f"{mode.value} {operation.label}"

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def call(case: Any) -> None:
        if isinstance(case.body, dict) and isinstance(case.body.get("model"), str):
            case.body["model"] = MODEL  # past the model check, into validation and the model
        if case.path_parameters and case.method != "DELETE" and TRIED[label] % 2 == 0:
            case.path_parameters = {name: ids.get(name, value) for name, value in case.path_parameters.items()}
        response = case.call(headers=headers, timeout=30)
        TRIED[label] += 1
        STATUS[(label, response.status_code)] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.append(f"{case.as_curl_command()}\n-> {response.status_code} {response.text[:300]}")

    test: Callable[[], None] = call
    return test


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_no_server_errors(
    server: RunningServer, keys: Keys, mode: GenerationMode, request: pytest.FixtureRequest
) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the spec has operations schemathesis cannot read"
    assert len(operations) >= 20, [operation.label for operation in operations]
    headers = {"Authorization": f"Bearer {keys.alice}"}
    ids = existing_records(server, headers)
    for operation in operations:
        try:
            fuzz(operation, mode, headers, ids)()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters, no body): no cases
    summarize(request.config, mode)
    assert not SERVER_ERRORS, "\n\n".join(SERVER_ERRORS[:10])


def summarize(config: pytest.Config, mode: GenerationMode) -> None:
    """One line in the terminal summary: the cases tried in `mode`, and their statuses."""
    mine = {label: count for label, count in TRIED.items() if label.startswith(mode.value + " ")}
    statuses: Counter[int] = Counter()
    for (label, status), count in STATUS.items():
        if label in mine:
            statuses[status] += count
    errors = sum(count for status, count in statuses.items() if status >= 500)
    line = (
        f"schemathesis ({mode.value}): {sum(mine.values())} cases tried on {len(mine)} operations, {errors} with "
        "a 5xx; statuses " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    )
    print(line)
    config.stash.setdefault(SUMMARY, []).append(line)
