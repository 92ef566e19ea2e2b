"""`POST /v1/chat/completions`: checked, queued for the model, generated in a worker thread, recorded as a run."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from rixin.server.auth import Owner
from rixin.server.chat_format import ChunkWriter, completion, finish_reason, usage
from rixin.server.chat_prepare import ChatCall, prepare_chat
from rixin.server.chat_schema import ChatCompletionRequest
from rixin.server.errors import APIError
from rixin.server.failures import generation_error
from rixin.server.generation import run_to_end
from rixin.server.state import ServerState, get_state
from rixin.server.streaming import ChatStream
from rixin.server.worker import GenerationCancelledError, OnText, WorkerJob
from rixin.types import ChatResult

router = APIRouter()


@router.post(
    "/v1/chat/completions",
    response_model=None,
    summary="Create a chat completion (tools, tool_choice, response_format, stream)",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def create_chat_completion(body: ChatCompletionRequest, request: Request, owner: Owner) -> Response:
    state = get_state(request)
    state.check_model(body.model)
    call = prepare_chat(body, state.settings.default_max_tokens)
    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    ticket = state.queue.enter()
    job = WorkerJob(state.executor, _work(state, owner, completion_id, call, bool(body.stream)))
    has_format = call.response_format is not None

    def to_api_error(error: BaseException) -> APIError:
        return generation_error(error, has_format=has_format)

    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        writer = ChunkWriter(completion_id, created, state.model_id, include_usage)
        return ChatStream(job, ticket, writer, to_api_error)
    result = await run_to_end(request, ticket, job, to_api_error)
    if isinstance(result, Response):
        return result
    return JSONResponse(completion(completion_id, created, state.model_id, result))


def _work(
    state: ServerState, owner: str, completion_id: str, call: ChatCall, stream: bool
) -> Callable[[OnText], ChatResult]:
    def work(on_text: OnText) -> ChatResult:
        store = state.store
        started: dict[str, Any] = {
            "model": state.model_id,
            "stream": stream,
            "messages": len(call.messages),
            "tools": [tool.name for tool in call.tools],
        }
        store.start_run(owner, "chat.completion", run_id=completion_id, data=started)
        try:
            result = state.model.chat(
                call.messages,
                tools=call.tools or None,
                tool_choice=call.tool_choice,
                parallel_tool_calls=call.parallel_tool_calls,
                options=call.options,
                response_format=call.response_format,
                on_text=on_text,
            )
        except GenerationCancelledError:
            store.finish_run(completion_id, "cancelled")
            raise
        except BaseException as error:
            store.finish_run(completion_id, "failed", error=f"{type(error).__name__}: {error}")
            raise
        ended = {"finish_reason": finish_reason(result), "usage": usage(result)}
        store.finish_run(completion_id, "completed", error=result.error, data=ended)
        return result

    return work
