"""`/v1/responses` (OpenAI's Responses API shape): create (streamed or not), retrieve, delete, list input items.
Responses, their context and their run events persist; `previous_response_id` and `conversation` chain them."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from rixin.errors import ToolSchemaError
from rixin.server.approvals_book import PAUSED, Resolution, commit, resolve
from rixin.server.auth import Owner
from rixin.server.code_runs import CodeSession
from rixin.server.errors import APIError, bad_request, not_found
from rixin.server.failures import generation_error
from rixin.server.generation import run_to_end
from rixin.server.items import canonical, to_messages
from rixin.server.queue import QueueFullError
from rixin.server.responses_events import ResponseEventWriter, public
from rixin.server.responses_run import (
    APPROVAL_REQUIRED,
    DEFAULT_MAX_TOOL_CALLS,
    ResponseOutcome,
    ResponsePlan,
    new_id,
    run_response,
)
from rixin.server.responses_schema import (
    BuiltinChoice,
    CodeInterpreterTool,
    FunctionTool,
    JsonObjectFormat,
    JsonSchemaFormat,
    NamedFunction,
    ResponseRequest,
)
from rixin.server.responses_stream import ResponseStream
from rixin.server.state import ServerState, get_state
from rixin.server.worker import Event, GenerationCancelledError, OnText, Progress, WorkerJob
from rixin.store import ResponseRecord, Store
from rixin.tools import Tool, as_tools
from rixin.tools.code_interpreter import TOOL_NAME as CODE_TOOL
from rixin.types import GenerationOptions, Message

router = APIRouter()
log = logging.getLogger("rixin.server")


def _missing(response_id: str) -> APIError:
    return not_found(f"Response with id '{response_id}' not found.", "response_id", "response_not_found")


# -- checking the request -------------------------------------------------------------------------------------
def _context(store: Store, owner: str, request: ResponseRequest) -> tuple[list[dict[str, Any]], str | None]:
    """The items before this request's input, and the conversation id to append to."""
    if request.previous_response_id and request.conversation:
        raise bad_request("Use either 'previous_response_id' or 'conversation', not both.", "conversation")
    if request.previous_response_id:
        previous = store.get_response(owner, request.previous_response_id)
        if previous is None:
            raise not_found(
                f"Previous response with id '{request.previous_response_id}' not found.", "previous_response_id"
            )
        return [*previous.input, *previous.body.get("output", [])], None
    if request.conversation is not None:
        conversation_id = request.conversation if isinstance(request.conversation, str) else request.conversation.id
        if store.get_conversation(owner, conversation_id) is None:
            raise not_found(f"Conversation with id '{conversation_id}' not found.", "conversation")
        return [item.data for item in store.list_items(owner, conversation_id)], conversation_id
    return [], None


def _tools(request: ResponseRequest, store: Store, owner: str) -> tuple[list[Tool], list[str] | None]:
    """The function tools, and the files for the code interpreter (None: no code interpreter)."""
    specs: list[dict[str, Any]] = []
    file_ids: list[str] | None = None
    for tool in request.tools or []:
        if isinstance(tool, FunctionTool):
            spec = {"type": "function", "function": tool.model_dump(exclude_none=True, exclude={"type", "annotations"})}
            if tool.annotations is not None:
                spec["annotations"] = tool.annotations.model_dump(exclude_none=True)
            specs.append(spec)
        elif isinstance(tool, CodeInterpreterTool):
            container = tool.container
            file_ids = (
                list(container.file_ids or []) if container is not None and not isinstance(container, str) else []
            )
            for file_id in file_ids:
                if store.get_file(owner, file_id) is None:
                    raise not_found(f"No such File object: {file_id}", "tools.container.file_ids", "file_not_found")
    try:
        tools = as_tools(specs)
    except ToolSchemaError as error:
        raise bad_request(f"Invalid tools: {error}", "tools", "invalid_tool_schema") from error
    if file_ids is not None and any(t.name == CODE_TOOL for t in tools):
        raise bad_request(f"A function tool cannot be named {CODE_TOOL!r} next to the built-in one.", "tools")
    return tools, file_ids


def _tool_choice(request: ResponseRequest, tools: list[Tool], has_code: bool) -> str | dict[str, Any]:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice != "none" and not (tools or has_code):
            raise bad_request("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice")
        return choice
    name = CODE_TOOL if isinstance(choice, BuiltinChoice) else choice.name
    if (isinstance(choice, NamedFunction) and name not in [t.name for t in tools]) or (
        isinstance(choice, BuiltinChoice) and not has_code
    ):
        raise bad_request(f"tool_choice names {name!r}, which is not among the tools.", "tool_choice")
    return {"type": "function", "function": {"name": name}}


def _format(request: ResponseRequest) -> dict[str, Any] | None:
    spec = request.text.format if request.text else None
    if isinstance(spec, JsonObjectFormat):
        return {"type": "json_object"}
    if isinstance(spec, JsonSchemaFormat):
        return {"type": "json_schema", "json_schema": {"name": spec.name, "schema": spec.schema_, "strict": True}}
    return None


def _plan(state: ServerState, request: ResponseRequest, items: list[dict[str, Any]], tools: list[Tool]) -> ResponsePlan:
    messages = [Message(role="system", content=request.instructions)] if request.instructions else []
    messages += to_messages(items)
    if not any(m.role == "user" for m in messages):
        raise bad_request("The input holds no user message.", "input")
    options = GenerationOptions(
        max_tokens=request.max_output_tokens or state.settings.default_max_tokens,
        temperature=0.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
    )
    return ResponsePlan(
        messages=messages,
        tools=tools,
        tool_choice="auto",
        parallel_tool_calls=True if request.parallel_tool_calls is None else request.parallel_tool_calls,
        options=options,
        response_format=_format(request),
        max_tool_calls=request.max_tool_calls or DEFAULT_MAX_TOOL_CALLS,
    )


def response_object(
    response_id: str,
    created: int,
    state: ServerState,
    request: ResponseRequest,
    outcome: ResponseOutcome,
    conversation_id: str | None,
) -> dict[str, Any]:
    usage = outcome.usage
    text_format: Any = request.text.format.model_dump(by_alias=True) if request.text and request.text.format else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": outcome.status,
        "background": False,
        "error": outcome.error,
        "incomplete_details": {"reason": outcome.incomplete_reason} if outcome.incomplete_reason else None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": request.max_tool_calls,
        "model": state.model_id,
        "output": outcome.output,
        "parallel_tool_calls": True if request.parallel_tool_calls is None else request.parallel_tool_calls,
        "previous_response_id": request.previous_response_id,
        "conversation": {"id": conversation_id} if conversation_id else None,
        "temperature": 0.0 if request.temperature is None else request.temperature,
        "top_p": 1.0 if request.top_p is None else request.top_p,
        "tool_choice": _choice_object(request),
        "tools": [tool.model_dump(exclude_none=True) for tool in request.tools or []],
        "text": {"format": text_format or {"type": "text"}},
        "truncation": request.truncation or "disabled",
        "store": request.store is not False,
        "metadata": request.metadata or {},
        "usage": {
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.total_tokens,
        },
        "user": request.user,
    }


def _choice_object(request: ResponseRequest) -> Any:
    choice = request.tool_choice
    return choice.model_dump() if isinstance(choice, NamedFunction | BuiltinChoice) else choice or "auto"


# -- preparing and running one response ---------------------------------------------------------------------
@dataclass
class PreparedResponse:
    """A checked request, ready to run: its context, new items, plan and ids."""

    owner: str
    body: ResponseRequest
    context: list[dict[str, Any]]
    conversation_id: str | None
    new_items: list[dict[str, Any]]
    file_ids: list[str] | None
    plan: ResponsePlan
    resolution: Resolution
    response_id: str = field(default_factory=lambda: new_id("resp"))
    run_id: str = field(default_factory=lambda: new_id("run"))
    created: int = field(default_factory=lambda: int(time.time()))


def _requires_approval(request: ResponseRequest) -> bool:
    tools = request.tools or []
    return any(isinstance(t, CodeInterpreterTool) and t.require_approval == "always" for t in tools)


def prepare_response(state: ServerState, owner: str, body: ResponseRequest) -> PreparedResponse:
    """Check the request against the store (context, files, approvals) and plan it; APIError when it is bad."""
    if body.background:
        raise bad_request("Background responses are not supported.", "background", "unsupported_parameter")
    store = state.store
    context, conversation_id = _context(store, owner, body)
    raw = [{"role": "user", "content": body.input}] if isinstance(body.input, str) else None
    new_items = [{**item, "id": "msg_" + secrets.token_hex(12)} for item in _canonical_input(body, raw)]
    tools, file_ids = _tools(body, store, owner)
    require_approval = _requires_approval(body)
    if require_approval and body.store is False:
        raise bad_request("A tool with 'require_approval' needs a stored response ('store' cannot be false).", "store")
    resolution = resolve(store, owner, context, new_items)
    if resolution.approved and file_ids is None:
        raise bad_request(
            "Approved code_interpreter calls run in the code interpreter: add it to 'tools'.", "tools", "missing_tool"
        )
    new_items += [{**item, "id": "msg_" + secrets.token_hex(12)} for item in resolution.added]
    plan = _plan(state, body, [*context, *new_items], tools)
    plan.tool_choice = _tool_choice(body, tools, file_ids is not None)
    plan.require_approval, plan.approved = require_approval, resolution.approved
    prepared = PreparedResponse(owner, body, context, conversation_id, new_items, file_ids, plan, resolution)
    plan.response_id = prepared.response_id
    return prepared


def _saved_request(body: ResponseRequest) -> dict[str, Any]:
    """What a paused response keeps of its request, to continue it the same way (tools, limits, instructions)."""
    skip = {"input", "stream", "previous_response_id", "conversation", "tool_choice", "background", "model"}
    saved: dict[str, Any] = body.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=skip)
    return saved


class ResponseWork:
    """The worker side of one response: record approvals it answers, run, save (streamed progress to `post`)."""

    def __init__(self, state: ServerState, prepared: PreparedResponse, *, committed: bool = False) -> None:
        self.state, self.prepared, self.committed = state, prepared, committed
        self.post: Callable[[Event], None] | None = None
        self.ended = False
        """True once an end state (completed, incomplete, failed, cancelled) is saved."""

    def save(self, status: str, outcome: ResponseOutcome) -> dict[str, Any]:
        p, state = self.prepared, self.state
        data = response_object(p.response_id, p.created, state, p.body, outcome, p.conversation_id)
        data["status"] = status
        row_status = status
        if outcome.incomplete_reason == APPROVAL_REQUIRED:
            row_status, data["rixin_request"] = PAUSED, _saved_request(p.body)
        if p.body.store is not False:
            state.store.save_response(
                p.owner,
                p.response_id,
                status=row_status,
                model=state.model_id,
                body=data,
                input=[*p.context, *p.new_items],
                previous_response_id=p.body.previous_response_id,
                conversation_id=p.conversation_id,
            )
        self.ended = status not in ("queued", "in_progress")
        return data

    def __call__(self, on_text: OnText) -> dict[str, Any]:
        p, state, store = self.prepared, self.state, self.state.store
        plan = p.plan
        if p.resolution.ids and not self.committed:
            commit(store, state.approvals_lock, p.owner, p.resolution, p.response_id)
            self.committed = True
        self.save("in_progress", ResponseOutcome())
        store.start_run(
            p.owner, "response", run_id=p.run_id, response_id=p.response_id, conversation_id=p.conversation_id
        )
        if p.file_ids is not None:
            plan.code = CodeSession(state.settings, store, p.owner, p.file_ids)
            plan.tools = [*plan.tools, plan.code.interpreter.tool]
        post = self.post
        try:
            notify = (lambda kind, data: post(Progress(kind, data))) if post is not None else None
            outcome = run_response(state.model, plan, store, p.run_id, on_text, notify)
        except GenerationCancelledError:
            self.save("cancelled", ResponseOutcome())
            store.finish_run(p.run_id, "cancelled")
            raise
        except BaseException as error:
            self.save("failed", ResponseOutcome(status="failed", error={"code": "server_error", "message": str(error)}))
            store.finish_run(p.run_id, "failed", error=f"{type(error).__name__}: {error}")
            raise
        finally:
            if plan.code is not None:
                plan.code.close()
        data = self.save(outcome.status, outcome)
        if p.conversation_id is not None:
            store.add_items(p.owner, p.conversation_id, [*p.new_items, *outcome.output])
        status = "failed" if outcome.status == "failed" else "completed"
        store.finish_run(p.run_id, status, error=(outcome.error or {}).get("message"), data={"status": outcome.status})
        return data

    def fail(self, error: BaseException) -> None:
        """The response could not run (an approval answered meanwhile, the server stopping): say so."""
        if self.ended or self.prepared.body.store is False:
            return
        message = error.message if isinstance(error, APIError) else f"{type(error).__name__}: {error}"
        code = (error.code if isinstance(error, APIError) else None) or "server_error"
        self.save("failed", ResponseOutcome(status="failed", error={"code": code, "message": message}))


# -- continuing a response whose approvals are all decided ----------------------------------------------------
def continuation_request(state: ServerState, record: ResponseRecord) -> ResponseRequest:
    """The request that continues a paused response the way it was asked (its tools, instructions, limits)."""
    data: dict[str, Any] = {**(record.body.get("rixin_request") or {}), "model": state.model_id, "input": []}
    if record.conversation_id:
        data["conversation"] = record.conversation_id
    else:
        data["previous_response_id"] = record.id
    return ResponseRequest.model_validate_json(json.dumps(data))


async def continue_in_background(state: ServerState, owner: str, record: ResponseRecord) -> str:
    """Start the response that continues `record` (its decisions recorded): queued at once, run when the model
    is free, with no client waiting; its id."""
    body = continuation_request(state, record)
    prepared = await run_in_threadpool(prepare_response, state, owner, body)
    work = ResponseWork(state, prepared, committed=True)
    await run_in_threadpool(work.save, "queued", ResponseOutcome())
    try:
        await run_in_threadpool(
            commit, state.store, state.approvals_lock, owner, prepared.resolution, prepared.response_id
        )
    except APIError as error:
        await run_in_threadpool(work.fail, error)
        raise
    job: WorkerJob[dict[str, Any]] = WorkerJob(state.executor, work)
    task = asyncio.create_task(_run_in_background(state, work, job))
    state.background.add(task)
    task.add_done_callback(state.background.discard)
    return prepared.response_id


async def _run_in_background(state: ServerState, work: ResponseWork, job: WorkerJob[dict[str, Any]]) -> None:
    ticket = None
    try:
        while ticket is None:
            try:
                ticket = state.queue.enter()
            except QueueFullError:  # nobody to answer 429 to: wait for a place in line
                await asyncio.sleep(state.settings.retry_after_s)
        await ticket.wait()
        job.start()
        await job.result()
    except asyncio.CancelledError as error:  # the server is stopping: say so, or the response stays queued
        work.fail(RuntimeError("the server stopped before this response could finish"))
        raise error
    except Exception as error:
        log.warning("the continuation %s failed: %s", work.prepared.response_id, error)
        await run_in_threadpool(work.fail, error)
    finally:
        job.cancel()  # a no-op once ended; stops the generation when the server shuts down
        await job.finished()
        if ticket is not None:
            ticket.leave()


# -- the endpoints --------------------------------------------------------------------------------------------
@router.post("/v1/responses", response_model=None, summary="Create a response (code interpreter runs here)")
async def create_response(body: ResponseRequest, request: Request, owner: Owner) -> Response:
    state = get_state(request)
    state.check_model(body.model)
    prepared = await run_in_threadpool(prepare_response, state, owner, body)
    ticket = state.queue.enter()
    work = ResponseWork(state, prepared)
    job = WorkerJob(state.executor, work)
    if body.stream:
        work.post = job.post
    has_format = prepared.plan.response_format is not None

    def to_api_error(error: BaseException) -> APIError:
        return generation_error(error, has_format=has_format)

    if body.stream:
        started = response_object(
            prepared.response_id, prepared.created, state, body, ResponseOutcome(), prepared.conversation_id
        )
        writer = ResponseEventWriter({**started, "status": "in_progress"})
        return ResponseStream(job, ticket, writer, to_api_error)
    result = await run_to_end(request, ticket, job, to_api_error)
    if isinstance(result, Response):
        return result
    return JSONResponse(public(result))


def _canonical_input(body: ResponseRequest, raw: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    from rixin.server.items import MessageItem

    if raw is not None:
        return [canonical(MessageItem.model_validate(item)) for item in raw]
    assert not isinstance(body.input, str)
    return [canonical(item) for item in body.input]


@router.get("/v1/responses/{response_id}", summary="Retrieve a response")
async def get_response(response_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    found = await run_in_threadpool(get_state(request).store.get_response, owner, response_id)
    if found is None:
        raise _missing(response_id)
    data: dict[str, Any] = public(found.body)
    return data


@router.delete("/v1/responses/{response_id}", summary="Delete a response")
async def delete_response(response_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    if not await run_in_threadpool(get_state(request).store.delete_response, owner, response_id):
        raise _missing(response_id)
    return {"id": response_id, "object": "response", "deleted": True}


@router.get("/v1/responses/{response_id}/input_items", summary="The items a response was given (with context)")
async def input_items(response_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    found = await run_in_threadpool(get_state(request).store.get_response, owner, response_id)
    if found is None:
        raise _missing(response_id)
    data = public(found.input)
    first, last = (data[0].get("id"), data[-1].get("id")) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False}
