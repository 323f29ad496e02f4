"""``n`` choices from an upstream that gives one per call: ``n`` calls, merged into one Opened.

Kimi refuses ``n > 1`` at a temperature near 0 ("only 1 result can be returned", docs/kimi.md
§4.2, §18.2). The quirk layer says so with :class:`OneChoicePerCall` before anything is sent
(``quirks.n_with_low_temperature: fan_out``, the default), and :func:`open_choices` then opens
``n`` calls with ``n`` unset, concurrently, and merges them into one reply: each call's parts
and finish carry its position as their choice (core/events.py), one MessageStart (the first
call's), one Done (after every call's), and usage summed (each call is billed its own prompt,
so the total is what Kimi charges). A call that fails before its first batch fails the whole
(the others are closed); after that, the first StreamError ends the stream. The diagnostic
``fanned_out`` says it happened (header and access log). Stop sequences the gateway enforces
(core/stops.py) are watched per call, before the merge, and a call cut at a match is closed
(its answer is complete; the merged stream goes on with the others).

What does not belong here: deciding when a request needs it (upstreams/kimi/quirks_sampling.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from kimi_gateway.core.errors import GatewayError, OneChoicePerCall
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.model import Choice, Diagnostic, Request, Response
from kimi_gateway.core.stops import StopWatch, cut_response
from kimi_gateway.core.upstream import Batch, CallContext, Opened, Upstream
from kimi_gateway.core.usage import Usage


async def open_choices(upstream: Upstream, request: Request, ctx: CallContext) -> Opened:
    """``upstream.open(request)``, or ``n`` calls of one choice each where it takes only one."""
    try:
        return await upstream.open(request, ctx)
    except OneChoicePerCall as error:
        split = error
    single = dataclasses.replace(request, n=None)
    calls = [asyncio.ensure_future(upstream.open(single, ctx)) for _ in range(split.n)]
    opened = await _all_opened(calls)
    detail = f"n={split.n} sent as {split.n} requests of one choice each: {split.message}"
    return _merged(opened, Diagnostic("fanned_out", detail))


async def _all_opened(calls: Sequence[asyncio.Future[Opened]]) -> list[Opened]:
    """Every call opened, or none: on a failure the others are cancelled or closed."""
    try:
        return list(await asyncio.gather(*calls))
    except BaseException:
        for call in calls:
            call.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, Opened):
                await result.aclose()
        raise


def _merged(opened: list[Opened], note: Diagnostic) -> Opened:
    first = opened[0]
    head: dict[str, Any] = {
        "upstream": first.upstream,
        "model": first.model,
        "request_id": first.request_id,
        "diagnostics": (*first.diagnostics, note),
        "attempts": sum(o.attempts for o in opened),
    }
    completes = [o.complete for o in opened if o.complete is not None]
    if len(completes) == len(opened):
        replies = [
            cut_response(r, o.enforce_stop) if o.enforce_stop else r
            for r, o in zip(completes, opened, strict=True)
        ]
        return Opened(
            **head,
            complete=_joined(replies),
            finish=_each(o.finish for o in opened),
            aclose=_each(o.aclose for o in opened),
        )
    if completes:
        raise GatewayError("server", "the fanned-out calls answered in different forms")
    merge = _Merge(opened)
    batch = [event for k, o in enumerate(opened) for event in merge.map(k, o.first)]
    rest = merge.rest()

    async def finish() -> None:
        await _each(o.finish for k, o in enumerate(opened) if k not in merge.cut)()

    async def aclose() -> None:
        try:
            await rest.aclose()
        finally:
            await _each(o.aclose for k, o in enumerate(opened) if k not in merge.closed)()

    return Opened(**head, first=batch, rest=rest, finish=finish, aclose=aclose)


def _each(calls: Any) -> Callable[[], Awaitable[None]]:
    """One callable that awaits every one of ``calls`` (all of them, even if one fails)."""
    pending: list[Callable[[], Awaitable[None]]] = list(calls)

    async def run() -> None:
        results = [await _quietly(call) for call in pending]
        for error in results:
            if error is not None:
                raise error

    return run


async def _quietly(call: Callable[[], Awaitable[None]]) -> BaseException | None:
    try:
        await call()
    except Exception as error:  # reported after the others ran
        return error
    return None


def _total(usages: list[Usage]) -> Usage:
    return Usage(
        input_uncached=sum(u.input_uncached for u in usages),
        input_cache_read=sum(u.input_cache_read for u in usages),
        input_cache_write=sum(u.input_cache_write for u in usages),
        output=sum(u.output for u in usages),
        reasoning=sum(u.reasoning for u in usages),
    )


def _joined(replies: list[Response]) -> Response:
    """One-body replies (an upstream that does not stream): the first, the others as choices."""
    first = replies[0]
    more = tuple(Choice(r.parts, r.stop_reason, r.stop_sequence) for r in replies[1:])
    diagnostics = tuple(d for r in replies for d in r.diagnostics)
    usage = _total([r.usage for r in replies])
    return dataclasses.replace(first, usage=usage, more_choices=more, diagnostics=diagnostics)


class _Merge:
    """Maps each call's events into the one stream: part indexes renumbered across calls,
    choice = the call's position, usage summed, MessageStart and Done once."""

    def __init__(self, opened: list[Opened]) -> None:
        self._opened = opened
        self._calls = len(opened)
        self._index: dict[tuple[int, int], int] = {}
        self._usage = [Usage()] * self._calls
        self._done = 0
        self._watches = [StopWatch(o.enforce_stop) if o.enforce_stop else None for o in opened]
        self.cut: set[int] = set()  # calls a stop sequence ended (closed, not drained)
        self.closed: set[int] = set()  # calls already closed here (never closed twice)

    def map(self, call: int, batch: Batch) -> Batch:
        watch = self._watches[call]
        if watch is not None:
            batch = watch.feed(batch)
            if watch.done:
                self.cut.add(call)
        return [mapped for e in batch if (mapped := self._event(call, e)) is not None]

    def _event(self, call: int, event: StreamEvent) -> StreamEvent | None:
        if isinstance(event, PartStart):
            index = self._index[(call, event.index)] = len(self._index)
            return dataclasses.replace(event, index=index, choice=call)
        if isinstance(
            event, TextDelta | ThinkingDelta | SignatureDelta | ToolArgumentsDelta | PartEnd
        ):
            return dataclasses.replace(event, index=self._index[(call, event.index)])
        if isinstance(event, Finish):
            return dataclasses.replace(event, choice=call)
        if isinstance(event, UsageReport):
            self._usage[call] = self._usage[call].merge(event.usage)
            return UsageReport(_total(self._usage))
        if isinstance(event, Done):
            self._done += 1
            return event if self._done == self._calls else None
        if isinstance(event, MessageStart) and call > 0:
            return None
        return event  # the first call's MessageStart, a StreamError

    async def _close(self, call: int) -> None:
        self.closed.add(call)
        await self._opened[call].aclose()

    async def rest(self) -> AsyncGenerator[Batch, None]:
        """Every call's further batches as they arrive, mapped; ends at the first error. A
        call cut at a stop sequence is closed and read no further."""
        rests: list[AsyncIterator[Batch]] = [o.rest for o in self._opened]
        pending: dict[asyncio.Future[Batch | None], int] = {}

        def pull(call: int) -> None:
            pending[asyncio.ensure_future(anext(rests[call], None))] = call

        for call in range(self._calls):
            if call in self.cut:
                await self._close(call)
            else:
                pull(call)
        try:
            while pending:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    call = pending.pop(future)
                    batch = future.result()
                    if batch is None:
                        continue
                    mapped = self.map(call, batch)
                    if mapped:
                        yield mapped
                    if any(isinstance(e, StreamError) for e in mapped):
                        return
                    if call in self.cut:
                        await self._close(call)
                    else:
                        pull(call)
        finally:
            for future in pending:
                future.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
