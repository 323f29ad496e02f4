"""``Retrying``: an Upstream that calls the one it wraps again after a retryable failure.

Retries happen only inside :meth:`open`, i.e. before the first byte reaches the client
(core/upstream.py: ``open`` returns after the head and first batch); a failure after that
arrives as a StreamError and is never retried. The policy (retry_policy.py) decides whether and
how long to wait; the budget bounds retries across all requests of this upstream.

A request sent on a pooled keep-alive connection the upstream had already closed is resent at
once on a fresh connection by the HTTP layer itself (upstreams/http.py), below this wrapper, and
never counts against the budget.

Empty completions (``empty_completion``): before returning, the stream is read until its first
content (text, reasoning or a tool call); a stream that ends before any is retried. Reading that
far costs a streaming client nothing it would have seen earlier except the role chunk.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    PartStart,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
)
from kimi_gateway.core.model import Request
from kimi_gateway.core.upstream import Batch, CallContext, Opened, Upstream
from kimi_gateway.reliability.retry_policy import (
    EMPTY_COMPLETION,
    RetryBudget,
    RetryPolicy,
)
from kimi_gateway.reliability.stats import Stats
from kimi_gateway.reliability.wrapper import Wrapper

_CONTENT = (TextDelta, ThinkingDelta, ToolArgumentsDelta)


class Retrying(Wrapper):
    def __init__(
        self,
        inner: Upstream,
        policy: RetryPolicy,
        budget: RetryBudget,
        stats: Stats,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(inner)
        self.policy = policy
        self.budget = budget
        self.stats = stats
        self._sleep = sleep
        self._draw = draw

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        self.budget.request()
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                opened = await self.inner.open(request, ctx)
                if self.policy.empty_completion and await _empty_so_far(opened):
                    error = _empty(opened.upstream)
                    wait = await self._wait(error, attempt, waited, ctx)
                    if wait is None:
                        return _counted(opened, attempt)  # the last try: its reply, as it is
                    await opened.aclose()
                    raise _Again(error, wait)
            except (GatewayError, _Again) as exc:
                error, wait = (exc.error, exc.wait) if isinstance(exc, _Again) else (exc, None)
                if wait is None:
                    wait = await self._wait(error, attempt, waited, ctx)
                    if wait is None:
                        error.attempts = attempt
                        try:
                            raise error from None
                        finally:  # else this frame → error → its traceback → this frame: a
                            del error  # cycle that kept the whole request alive until a gc
                self.stats.retries[(self.name, error.upstream_type or error.kind)] += 1
                await self._sleep(wait)
                waited += wait
                continue
            return _counted(opened, attempt)

    async def _wait(
        self, error: GatewayError, attempt: int, waited: float, ctx: CallContext
    ) -> float | None:
        """How long to wait before the next attempt, or None to give up with ``error``."""
        wait = self.policy.delay(error, attempt, waited, self._draw)
        if wait is None:
            return None
        if ctx.deadline is not None and asyncio.get_running_loop().time() + wait >= ctx.deadline:
            return None
        if not await self.budget.try_retry():
            self.stats.budget_refusals[self.name] += 1
            return None
        return wait


class _Again(Exception):
    """An empty completion that will be tried again after ``wait`` (budget already taken)."""

    def __init__(self, error: GatewayError, wait: float) -> None:
        self.error = error
        self.wait = wait


def _counted(opened: Opened, attempt: int) -> Opened:
    opened.attempts += attempt - 1
    return opened


def _empty(name: str) -> GatewayError:
    return GatewayError(
        "server", f"the upstream {name} sent an empty completion", upstream_type=EMPTY_COMPLETION
    )


async def _empty_so_far(opened: Opened) -> bool:
    """Read ``opened`` on until its first content (kept in ``opened.first``): whether it ended
    with none, for a reason another try may change. A stream that fails before any content
    raises its error (nothing has reached the client, so it may be retried)."""
    if opened.complete is not None:
        return not opened.complete.parts and opened.complete.stop_reason in _EMPTY_STOPS
    first: Batch = opened.first
    seen = first
    while not _has_content(seen):
        ending = _ending(seen)
        if ending is not None:
            if ending is _DONE_EMPTY or ending is _DONE_FINAL:
                opened.first = first
                return ending is _DONE_EMPTY
            await opened.aclose()
            raise ending
        try:
            seen = await anext(opened.rest)
        except StopAsyncIteration:
            opened.first = first
            return False  # the engine reports a stream that just stops
        except BaseException:
            await opened.aclose()
            raise
        first = first + seen  # only on the slow path: content rarely lags the first batch
    opened.first = first
    return False


_EMPTY_STOPS = (None, "end_turn", "stop_sequence")
_DONE_EMPTY = GatewayError("server", "empty")  # markers for _ending, never raised
_DONE_FINAL = GatewayError("server", "final")


def _ending(batch: Batch) -> GatewayError | None:
    """How a batch ends the stream, if it does: its StreamError's error, or a marker for a
    Done after nothing worth retrying (_DONE_EMPTY) or after a stop another try would repeat."""
    stop: str | None = None
    for event in batch:
        if isinstance(event, Finish):
            stop = event.stop_reason
        elif isinstance(event, StreamError):
            return event.error
        elif isinstance(event, Done):
            return _DONE_EMPTY if stop in _EMPTY_STOPS else _DONE_FINAL
    return None


def _has_content(batch: Batch) -> bool:
    for event in batch:
        if isinstance(event, _CONTENT):
            if getattr(event, "text", None) != "":
                return True
        elif isinstance(event, PartStart) and event.kind == "tool_call":
            return True
    return False
