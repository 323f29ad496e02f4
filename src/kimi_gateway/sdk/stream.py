"""A streamed reply as an async iterator of :class:`~kimi_gateway.sdk.results.Delta`, folded as
it goes (core/fold.py: non-streaming is the stream, folded), so ``result`` is the same
:class:`ChatResult` a non-streaming call returns once the stream has ended.

The generation is always closed: at its clean end (connection back to the pool), on an error
event (raised as its GatewayError), and on ``aclose()`` or cancellation of the consumer.
"""

from __future__ import annotations

import asyncio
from collections import deque

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.upstream import Batch
from kimi_gateway.sdk.backend import Source
from kimi_gateway.sdk.results import ChatResult, Delta, DeltaMaker, result_from_response


class ChatStream:
    """``async for delta in stream`` … then ``stream.result``."""

    def __init__(self, source: Source, deadline: float) -> None:
        self._source = source
        self._deadline = deadline
        self._batches = source.batches()
        self._folder = Folder()
        self._maker = DeltaMaker()
        self._pending: deque[Delta] = deque()
        self._result: ChatResult | None = None
        self._closed = False

    def __aiter__(self) -> ChatStream:
        return self

    @property
    def result(self) -> ChatResult:
        """The whole reply; available once the stream has been read to its end."""
        if self._result is None:
            raise RuntimeError("the stream has not been read to its end yet")
        return self._result

    async def __anext__(self) -> Delta:
        while not self._pending:
            if self._result is not None or self._closed:
                raise StopAsyncIteration
            batch = await self._next_batch()
            if batch is None:
                await self._end()
                raise StopAsyncIteration
            error = self._feed(batch)
            if error is not None:
                await self.aclose(error.kind)
                raise error
        return self._pending.popleft()

    async def _next_batch(self) -> Batch | None:
        try:
            async with asyncio.timeout_at(self._deadline):
                return await anext(self._batches, None)
        except TimeoutError:
            await self.aclose("timeout")
            raise GatewayError("timeout", "the call took longer than total_timeout") from None
        except BaseException:
            await self.aclose("client_closed")
            raise

    def _feed(self, batch: Batch) -> GatewayError | None:
        """Fold the batch and queue its deltas; the error that ended the stream, if one did."""
        for event in batch:
            if isinstance(event, StreamError):
                return event.error
            self._folder.feed(event)
            delta = self._maker.delta(event)
            if delta is not None:
                self._pending.append(delta)
        return None

    async def _end(self) -> None:
        self._closed = True
        await self._source.finish()
        self._result = result_from_response(
            self._folder.response(),
            request_id=self._source.request_id,
            upstream=self._source.upstream,
            diagnostics=self._source.diagnostics,
        )

    async def collect(self) -> ChatResult:
        """Read the rest of the stream and return the whole reply."""
        async for _ in self:
            pass
        return self.result

    async def aclose(self, error: str | None = "client_closed") -> None:
        """Stop reading and release the call (idempotent)."""
        if self._result is not None or self._closed:
            return
        self._closed = True
        await self._source.close(error)
