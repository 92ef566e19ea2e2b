"""Waiting for a slot and generating to the end (non-streamed requests), with the client watched: one that
disconnects leaves the line, or stops its generation at the next piece of text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from rixin.server.errors import APIError
from rixin.server.queue import ClientGoneError, Ticket
from rixin.server.streaming import wait_for_disconnect
from rixin.server.worker import WorkerJob

T = TypeVar("T")


async def run_to_end(
    request: Request, ticket: Ticket, job: WorkerJob[T], to_api_error: Callable[[BaseException], APIError]
) -> T | Response:
    """The job's value, or the error response to send (499 when the client is gone)."""

    def gone(task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            job.cancel()
            ticket.abandon()

    watcher = asyncio.create_task(wait_for_disconnect(request.receive))
    watcher.add_done_callback(gone)
    try:
        await ticket.wait()
        job.start()
        return await job.result()
    except ClientGoneError:
        return Response(status_code=499)
    except Exception as error:
        return to_api_error(error).response()
    finally:
        watcher.cancel()
        job.cancel()  # a no-op once the job has ended; stops it when this task is cancelled (shutdown)
        await job.finished()
        ticket.leave()
