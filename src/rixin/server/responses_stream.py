"""`POST /v1/responses` with `stream: true`: the worker's text pieces and progress as Responses events. As for chat
streams, the status line waits for the generation's first event, so a request the engine rejects gets its 4xx."""

from __future__ import annotations

from starlette.types import Send

from rixin.server.queue import ClientGoneError
from rixin.server.responses_events import ResponseEventWriter
from rixin.server.streaming import JobStream
from rixin.server.worker import Finished, Progress, TextPiece


class ResponseStream(JobStream[ResponseEventWriter]):
    async def _stream(self, send: Send) -> None:
        event = await self._first_event(send)
        if event is None:
            return
        await self._send(send, self.writer.start())
        while True:
            if isinstance(event, TextPiece):
                await self._send(send, self.writer.text(event.text))
            elif isinstance(event, Progress):
                if event.kind == "turn":
                    await self._send(send, self.writer.turn(str(event.data["message_id"])))
                elif event.kind == "item.added":
                    await self._send(send, self.writer.item_added(event.data))
                else:
                    await self._send(send, self.writer.item_done(event.data))
            elif isinstance(event, Finished):
                await self._send(send, self.writer.end(event.value))
                break
            else:
                if isinstance(event.error, ClientGoneError):
                    return
                await self._send(send, self.writer.error(self.to_api_error(event.error)))
                break
            event = await self.job.events.get()
        await self._end(send)

    async def _send(self, send: Send, lines: list[str]) -> None:
        for line in lines:
            await self._write(send, line)
