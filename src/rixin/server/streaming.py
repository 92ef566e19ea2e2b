"""A streamed chat completion as Server-Sent Events. The status line waits for the generation's first event, so
that a request the engine rejects (an uncompilable schema) still gets its 4xx; then `chat.completion.chunk`s,
tool-call deltas after the calls are validated, the finish chunk, the usage chunk when asked, `[DONE]`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from rixin.server.chat_format import DONE, ChunkWriter
from rixin.server.errors import APIError
from rixin.server.queue import ClientGoneError, Ticket
from rixin.server.worker import Event, Failed, Finished, TextPiece, WorkerJob
from rixin.types import ChatResult

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


async def wait_for_disconnect(receive: Receive) -> None:
    """Returns when the client has gone (the request body is already read, so only `http.disconnect` is left)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


WriterT = TypeVar("WriterT")


class JobStream(Response, Generic[WriterT]):
    """A streamed answer from a worker job: waits for its turn, starts the job, and `_stream`s its events through
    `writer` (the wire format); a client that disconnects leaves the line or cancels the generation."""

    def __init__(
        self,
        job: WorkerJob[Any],
        ticket: Ticket,
        writer: WriterT,
        to_api_error: Callable[[BaseException], APIError],
    ) -> None:
        super().__init__(status_code=200)
        self.job, self.ticket, self.writer, self.to_api_error = job, ticket, writer, to_api_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def listen() -> None:
            await wait_for_disconnect(receive)
            self.job.cancel()
            self.ticket.abandon()
            self.job.events.put_nowait(Failed(ClientGoneError()))

        listener = asyncio.create_task(listen())
        try:
            await self.ticket.wait()
            self.job.start()
            await self._stream(send)
        except ClientGoneError:
            pass
        finally:
            listener.cancel()
            self.job.cancel()  # a no-op after the end; stops the generation when the server shuts down mid-stream
            await self.job.finished()
            self.ticket.leave()

    async def _stream(self, send: Send) -> None:
        raise NotImplementedError

    async def _first_event(self, send: Send) -> Event | None:
        """The job's first event; None when it failed, after answering with the error's status (or with nothing
        when the client is gone)."""
        event = await self.job.events.get()
        if not isinstance(event, Failed):
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            return event
        if not isinstance(event.error, ClientGoneError):
            error = self.to_api_error(event.error)
            body = json.dumps(error.body()).encode()
            headers = [(b"content-type", b"application/json")]
            headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            await send({"type": "http.response.start", "status": error.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        return None

    @staticmethod
    async def _write(send: Send, line: str) -> None:
        await send({"type": "http.response.body", "body": line.encode("utf-8"), "more_body": True})

    @staticmethod
    async def _end(send: Send, last: str = "") -> None:
        await send({"type": "http.response.body", "body": last.encode("utf-8"), "more_body": False})


class ChatStream(JobStream[ChunkWriter]):
    async def _stream(self, send: Send) -> None:
        event = await self._first_event(send)
        if event is None:
            return
        await self._write(send, self.writer.role())
        while True:
            if isinstance(event, TextPiece):
                await self._write(send, self.writer.text(event.text))
            elif isinstance(event, Finished):
                result: ChatResult = event.value
                for line in [*self.writer.tool_calls(result.message.tool_calls or []), *self.writer.end(result)]:
                    await self._write(send, line)
                break
            elif isinstance(event, Failed):
                if isinstance(event.error, ClientGoneError):
                    return
                error = self.to_api_error(event.error)
                await self._write(send, "data: " + json.dumps(error.body()) + "\n\n")
                break
            event = await self.job.events.get()
        await self._end(send, DONE)
