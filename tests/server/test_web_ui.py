"""The web UI end to end, in headless Debian Chromium driven by Playwright, against a real uvicorn server: a
streamed answer, code-interpreter runs as collapsible steps (output and an image), a file upload that the code
then reads, conversations reopened from the list, the API key form; and one short chat with the real SmolLM2.

The model is a scripted stand-in (deterministic, no CPU) except in the last test; the code runs in the real
sandbox. These tests fail, never skip, when Chromium is missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from rixin.server import ServerSettings
from rixin.store import Store

from .conftest import Keys
from .helpers import RunningServer, ScriptedModel, serve_in_thread

if TYPE_CHECKING:
    from rixin.calling import Engine

CHROMIUM = "/usr/bin/chromium"
SLOW = 30_000
"""ms to wait for a sandbox run (a cold session and pandas' import on a busy machine)."""
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('rixin')\nplt.show()\n"
SUM = "import pandas as pd\nprint(pd.read_csv('/mnt/data/numbers.csv')['b'].sum())\n"
SCRIPTS: dict[str, tuple[str, dict[str, Any]]] = {
    "compute": ("code_interpreter", {"code": "print(6 * 7)"}),
    "plot": ("code_interpreter", {"code": PLOT}),
    "sum": ("code_interpreter", {"code": SUM}),
}
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  for (const node of document.querySelectorAll('.msg.assistant[aria-busy="true"] .text')) {
    window.__streamed.push(node.textContent);
  }
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) for the UI tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    model = ScriptedModel(delay=0.15, scripts=SCRIPTS)
    with serve_in_thread(ServerSettings(), model=model, store=module_store) as running:
        yield running


class Watched:
    """A page with its console errors and uncaught exceptions collected."""

    def __init__(self, page: Page) -> None:
        self.page, self.errors = page, list[str]()
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture
def ui(browser: Browser, server: RunningServer, keys: Keys) -> Iterator[Watched]:
    """The UI with alice's key already saved in the browser."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(f"localStorage.setItem('rixin.apiKey', {json.dumps(keys.alice)});")
    page.add_init_script(RECORD_STREAM)
    watched = Watched(page)
    page.goto(server.url + "/")
    expect(page.locator("#model")).to_have_text("scripted-model")
    yield watched
    context.close()
    assert not watched.errors, watched.errors


def send(page: Page, text: str, *, code: bool = False) -> None:
    expect(page.locator("#send")).to_be_enabled(timeout=SLOW)  # the previous response has ended
    page.locator("#use-code").set_checked(code)
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")


def test_page_is_self_contained(server: RunningServer) -> None:
    index = httpx.get(server.url + "/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in index.headers["content-security-policy"]
    for name in ("app.js", "api.js", "render.js", "style.css"):
        asset = httpx.get(f"{server.url}/ui/{name}")
        assert asset.status_code == 200, name
        assert "http://" not in asset.text and "https://" not in asset.text, f"{name} loads something from elsewhere"
        assert "innerHTML" not in asset.text and "insertAdjacentHTML" not in asset.text, name
    assert "/" not in httpx.get(server.url + "/openapi.json").json()["paths"]


def test_streamed_answer_appears(ui: Watched) -> None:
    page = ui.page
    send(page, "hello streaming world")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(answer.locator(".text")).to_have_text("Echo: hello streaming world")
    streamed: list[str] = page.evaluate("window.__streamed")
    partial = [text for text in streamed if text and "world" not in text]
    assert partial, f"the answer never showed up piece by piece: {streamed}"
    assert any(text.startswith("Echo:") for text in partial), streamed
    expect(page.locator("#conversations .open", has_text="hello streaming world")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Done.")


def test_model_text_is_escaped(ui: Watched) -> None:
    page = ui.page
    send(page, "<img src=x onerror=alert(1)> <b>bold</b>")
    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".text")).to_have_text("Echo: <img src=x onerror=alert(1)> <b>bold</b>")
    assert page.locator("#messages img, #messages b").count() == 0


def test_code_interpreter_runs_are_collapsible_steps(ui: Watched) -> None:
    page = ui.page
    send(page, "please compute 6 * 7", code=True)
    step = page.locator("details.step.code").last
    expect(step.locator("summary")).to_have_text("Code interpreter: done", timeout=SLOW)
    expect(step.locator("pre code")).to_have_text("print(6 * 7)")
    expect(step.locator("pre.logs")).to_have_text("42")
    expect(page.locator(".msg.assistant").last.locator(".text")).to_have_text("Result: stdout: 42")
    step.locator("summary").click()  # the step collapses and opens again
    expect(step.locator("pre.logs")).to_be_hidden()
    step.locator("summary").click()
    expect(step.locator("pre.logs")).to_be_visible()

    send(page, "now plot it", code=True)
    image = page.locator("details.step.code").last.locator("img")
    expect(image).to_be_visible(timeout=SLOW)
    assert str(image.get_attribute("src")).startswith("data:image/png;base64,")
    assert page.evaluate("[...document.querySelectorAll('details.step img')].every(i => i.naturalWidth > 0)")


def test_uploaded_file_is_listed_and_used_by_the_code(ui: Watched, server: RunningServer, keys: Keys) -> None:
    page = ui.page
    page.set_input_files("#file-input", {"name": "numbers.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n3,4\n"})
    page.click("#upload-form button[type=submit]")
    row = page.locator("#files li", has_text="numbers.csv").first
    expect(row).to_be_visible()
    expect(row.get_by_role("checkbox")).to_be_checked()
    expect(page.locator("#status")).to_contain_text("Uploaded numbers.csv")
    listed = httpx.get(server.v1 + "/files", headers={"Authorization": f"Bearer {keys.alice}"}).json()["data"]
    assert any(f["filename"] == "numbers.csv" and f["purpose"] == "user_data" for f in listed)

    send(page, "sum column b", code=True)
    step = page.locator("details.step.code").last
    expect(step.locator("pre.logs")).to_have_text("6", timeout=SLOW)


def test_conversations_reopen_with_their_steps(ui: Watched, server: RunningServer, keys: Keys) -> None:
    headers = {"Authorization": f"Bearer {keys.alice}"}
    items = [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temperature_c": 21}'},
        {"role": "assistant", "content": "It is 21 °C in Paris."},
    ]
    made = httpx.post(
        server.v1 + "/conversations", json={"items": items, "metadata": {"title": "Weather talk"}}, headers=headers
    )
    assert made.status_code == 200, made.text
    page = ui.page
    page.reload()
    page.locator("#conversations .open", has_text="Weather talk").click()
    expect(page.locator(".msg.user .text")).to_have_text(["Weather in Paris?"])
    step = page.locator("details.step.call")
    expect(step.locator("summary")).to_have_text("Tool call: get_weather")
    expect(step).not_to_have_attribute("open", "")
    step.locator("summary").click()
    expect(step.locator("pre").first).to_have_text('{"city": "Paris"}')
    expect(step.locator(".result pre")).to_have_text('{"temperature_c": 21}')
    expect(page.locator(".msg.assistant .text")).to_have_text(["It is 21 °C in Paris."])

    send(page, "compute again", code=True)  # a new run in the reopened conversation, then it is reopened
    expect(page.locator("details.step.code summary").last).to_have_text("Code interpreter: done", timeout=SLOW)
    expect(page.locator(".msg.assistant").last).to_have_attribute("aria-busy", "false")
    page.click("#new-chat")
    expect(page.locator("#messages > *")).to_have_count(0)
    page.locator("#conversations .open", has_text="Weather talk").click()
    expect(page.locator(".msg.user .text")).to_have_text(["Weather in Paris?", "compute again"])
    expect(page.locator("details.step.code pre.logs")).to_have_text("42")
    expect(page.locator("#conversations .open[aria-current=true]")).to_have_text("Weather talk")


def test_key_form(browser: Browser, server: RunningServer, keys: Keys) -> None:
    context = browser.new_context()
    page = context.new_page()
    watched = Watched(page)
    try:
        page.goto(server.url + "/")
        expect(page.locator("#status")).to_contain_text("You didn't provide an API key")
        expect(page.locator("#api-key")).to_be_focused()
        page.fill("#api-key", keys.bob)
        page.click("#key-form button")
        expect(page.locator("#model")).to_have_text("scripted-model")
        expect(page.locator("#status")).to_have_text("Ready.")
        assert page.evaluate("localStorage.getItem('rixin.apiKey')") == keys.bob
        expect(page.locator("#conversations li")).to_have_count(0)  # bob sees none of alice's conversations
    finally:
        context.close()
    assert all("401" in error for error in watched.errors), watched.errors  # the failed first request only


@pytest.mark.model
def test_chat_with_smollm2(browser: Browser, smol_engine: Engine, tmp_db: str) -> None:
    from rixin.store import open_store

    store = open_store(tmp_db)
    context = browser.new_context()
    try:
        settings = ServerSettings(no_auth=True, default_max_tokens=16)
        with serve_in_thread(settings, model=smol_engine, store=store) as running:
            page = context.new_page()
            page.goto(running.url + "/")
            expect(page.locator("#model")).to_have_text("smollm2-135m")
            expect(page.locator("#status")).to_contain_text("no-auth")
            send(page, "Say hello.")
            answer = page.locator(".msg.assistant").last
            expect(answer).to_have_attribute("aria-busy", "false", timeout=120_000)
            assert answer.locator(".text").inner_text().strip()
            expect(page.locator("#conversations li")).to_have_count(1)
    finally:
        context.close()
        store.close()
