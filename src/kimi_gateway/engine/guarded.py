"""A generation whose reply the engine checks or filters before the client sees it:
the forced-call re-ask (engine/forced_tools.py) and hidden thinking (engine/hidden_thinking.py).

:func:`guard_reply` takes the engine's first :class:`Generation`. For a forced call the gateway
relaxed it reads the whole reply (buffered: nothing has reached the client), asks again while
the call is missing and attempts remain, and answers the last good reply, or raises a
GatewayError saying the call is missing (the after-hooks have run, as for any failed open).
Every attempt's usage counts: Kimi billed it. The result replays the buffered batches and drops
thinking the client did not ask for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Awaitable, Callable

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request, Response, ToolChoice
from kimi_gateway.core.upstream import Batch, Opened
from kimi_gateway.engine import forced_tools
from kimi_gateway.engine.engine import Engine, Generation
from kimi_gateway.engine.forced_tools import ReplyOptions
from kimi_gateway.engine.hidden_thinking import ThinkingFilter, hides_thinking, strip_thinking

Reopen = Callable[[Request], Awaitable[Opened]]


class GuardedGeneration(Generation):
    """A Generation that replays a buffered reply (when one was read) and hides thinking."""

    def __init__(
        self, engine: Engine, inner: Generation, buffered: list[Batch] | None, hide: bool
    ) -> None:
        super().__init__(engine, inner.opened, inner.outcome, inner.reported_model)
        self.clean = inner.clean
        self._buffered = buffered
        self._hide = hide

    async def _replay(self, buffered: list[Batch]) -> AsyncGenerator[Batch, None]:
        for batch in buffered:
            yield batch

    async def batches(self) -> AsyncGenerator[Batch, None]:
        buffered = self._buffered
        source = super().batches() if buffered is None else self._replay(buffered)
        hidden = ThinkingFilter() if self._hide else None
        async for batch in source:
            kept = batch if hidden is None else hidden.feed(batch)
            if kept:
                yield kept

    async def response(self) -> Response:
        result = await super().response()
        return strip_thinking(result) if self._hide else result


async def guard_reply(
    engine: Engine, first: Generation, request: Request, reopen: Reopen, options: ReplyOptions
) -> Generation:
    """``first``'s reply made to keep the client's API (see the module docstring)."""
    hide = hides_thinking(request, first.outcome.client, options.show_unrequested_thinking)
    choice = forced_tools.relaxed_choice(request, first.opened.diagnostics)
    if choice is None or options.forced_tool_retries < 0:
        return GuardedGeneration(engine, first, None, hide)
    generation, buffered = await _forced(engine, first, request, choice, reopen, options)
    return GuardedGeneration(engine, generation, buffered, hide)


async def _read(generation: Generation) -> list[Batch] | None:
    """The whole reply's batches (None when the upstream answered in one body)."""
    if generation.opened.complete is not None:
        return None
    return [batch async for batch in generation.batches()]


async def _forced(
    engine: Engine,
    generation: Generation,
    request: Request,
    choice: ToolChoice,
    reopen: Reopen,
    options: ReplyOptions,
) -> tuple[Generation, list[Batch] | None]:
    outcome = generation.outcome
    current: Generation | None = generation
    try:
        for attempt in range(options.forced_tool_retries + 1):
            assert current is not None
            tool_calls = outcome.tool_calls
            buffered = await _read(current)
            if forced_tools.settled(buffered, current.opened.complete, choice):
                return current, buffered
            if attempt == options.forced_tool_retries:
                break
            outcome.tool_calls = tool_calls  # a discarded reply's calls reach no one
            await current.opened.aclose()
            current = None
            current = await _reopen(engine, generation, request, choice, reopen, options, attempt)
        # 502: the gateway works, its upstream's reply broke the client's contract.
        message = forced_tools.missing_call_message(choice, options.forced_tool_retries + 1)
        error = GatewayError("server", message, status=502)
        outcome.error = error.kind
        raise error
    except BaseException as exc:
        kind = _error_kind(exc)
        if current is None:
            outcome.error = kind
            engine.ended(outcome)
        else:
            await current.close(kind)
        raise


def _error_kind(exc: BaseException) -> str:
    """What ended the check: a GatewayError's kind, the face's time limit, or the client."""
    if isinstance(exc, GatewayError):
        return exc.kind
    return "timeout" if isinstance(exc, TimeoutError) else "client_closed"


async def _reopen(
    engine: Engine,
    first: Generation,
    request: Request,
    choice: ToolChoice,
    reopen: Reopen,
    options: ReplyOptions,
    attempt: int,
) -> Generation:
    """The next attempt, opened; the outcome notes its upstream id, attempts and diagnostic."""
    outcome = first.outcome
    opened = await reopen(forced_tools.reask(request, choice, options))
    diagnostics = (*opened.diagnostics, forced_tools.reasked(choice, attempt))
    opened = dataclasses.replace(opened, diagnostics=diagnostics)
    outcome.upstream, outcome.upstream_model = opened.upstream, opened.model
    outcome.upstream_request_id = opened.request_id
    outcome.diagnostics = opened.diagnostics
    outcome.attempts += opened.attempts
    return Generation(engine, opened, outcome, first.reported_model)
