"""`/v1/responses` (OpenAI's Responses API shape): create (streamed or not), retrieve, delete, list input items.
Responses, their context and their run events persist; `previous_response_id` and `conversation` chain them."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from rixin.errors import ToolSchemaError
from rixin.server.auth import Owner
from rixin.server.code_runs import CodeSession
from rixin.server.errors import APIError, bad_request, not_found
from rixin.server.failures import generation_error
from rixin.server.generation import run_to_end
from rixin.server.items import canonical, to_messages
from rixin.server.responses_events import ResponseEventWriter, public
from rixin.server.responses_run import DEFAULT_MAX_TOOL_CALLS, ResponseOutcome, ResponsePlan, run_response
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
from rixin.server.worker import GenerationCancelledError, OnText, Progress, WorkerJob
from rixin.store import Store
from rixin.tools import Tool, as_tools
from rixin.tools.code_interpreter import TOOL_NAME as CODE_TOOL
from rixin.types import GenerationOptions, Message

router = APIRouter()


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
            specs.append({"type": "function", "function": tool.model_dump(exclude_none=True, exclude={"type"})})
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


# -- the endpoints --------------------------------------------------------------------------------------------
@router.post("/v1/responses", response_model=None, summary="Create a response (code interpreter runs here)")
async def create_response(body: ResponseRequest, request: Request, owner: Owner) -> Response:
    state = get_state(request)
    state.check_model(body.model)
    if body.background:
        raise bad_request("Background responses are not supported.", "background", "unsupported_parameter")
    store = state.store
    context, conversation_id = await run_in_threadpool(_context, store, owner, body)
    raw = [{"role": "user", "content": body.input}] if isinstance(body.input, str) else None
    new_items = [{**item, "id": "msg_" + secrets.token_hex(12)} for item in _canonical_input(body, raw)]
    tools, file_ids = await run_in_threadpool(_tools, body, store, owner)
    plan = _plan(state, body, [*context, *new_items], tools)
    plan.tool_choice = _tool_choice(body, tools, file_ids is not None)
    response_id, run_id, created = "resp_" + secrets.token_hex(12), "run_" + secrets.token_hex(12), int(time.time())
    keep = body.store is not False
    ticket = state.queue.enter()

    def work(on_text: OnText) -> dict[str, Any]:
        def save(status: str, outcome: ResponseOutcome) -> dict[str, Any]:
            data = response_object(response_id, created, state, body, outcome, conversation_id)
            data["status"] = status
            if keep:
                store.save_response(
                    owner,
                    response_id,
                    status=status,
                    model=state.model_id,
                    body=data,
                    input=[*context, *new_items],
                    previous_response_id=body.previous_response_id,
                    conversation_id=conversation_id,
                )
            return data

        save("in_progress", ResponseOutcome())
        store.start_run(owner, "response", run_id=run_id, response_id=response_id, conversation_id=conversation_id)
        if file_ids is not None:
            plan.code = CodeSession(state.settings, store, owner, file_ids)
            plan.tools = [*plan.tools, plan.code.interpreter.tool]
        try:
            notify = (lambda kind, data: job.post(Progress(kind, data))) if body.stream else None
            outcome = run_response(state.model, plan, store, run_id, on_text, notify)
        except GenerationCancelledError:
            save("cancelled", ResponseOutcome())
            store.finish_run(run_id, "cancelled")
            raise
        except BaseException as error:
            save("failed", ResponseOutcome(status="failed", error={"code": "server_error", "message": str(error)}))
            store.finish_run(run_id, "failed", error=f"{type(error).__name__}: {error}")
            raise
        finally:
            if plan.code is not None:
                plan.code.close()
        data = save(outcome.status, outcome)
        if conversation_id is not None:
            store.add_items(owner, conversation_id, [*new_items, *outcome.output])
        status = "failed" if outcome.status == "failed" else "completed"
        store.finish_run(run_id, status, error=(outcome.error or {}).get("message"), data={"status": outcome.status})
        return data

    job = WorkerJob(state.executor, work)
    has_format = plan.response_format is not None

    def to_api_error(error: BaseException) -> APIError:
        return generation_error(error, has_format=has_format)

    if body.stream:
        started = response_object(response_id, created, state, body, ResponseOutcome(), conversation_id)
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
