"""The engine: one generation from a parsed request to canonical events, for every face.

request ─▶ route ─▶ before-hooks (authorise; later limits, budget) ─▶ Upstream.open ─▶
Generation (events in batches, or one folded Response) ─▶ after-hooks with the Outcome.

The server (ASGI) and the SDK (in-process) are faces on top: they parse the client's wire body,
call :meth:`Engine.open`, render what the :class:`Generation` yields in the client's dialect and
always :meth:`Generation.close` it. Nothing here knows HTTP servers or wire formats; time limits
are the face's (it holds the client connection).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Literal

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.model import Diagnostic, Request, Response, ToolCallPart
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import Principal
from kimi_gateway.core.records import replace
from kimi_gateway.core.stops import StopWatch, cut_response
from kimi_gateway.core.upstream import Batch, CallContext, ListedModel, Opened, Upstream
from kimi_gateway.engine.fanout import open_choices
from kimi_gateway.engine.forced_tools import ReplyOptions, needs_guard
from kimi_gateway.engine.hooks import AfterHook, BeforeHook, Dispatch
from kimi_gateway.engine.limits import RequestLimits, check_request
from kimi_gateway.engine.model_list import merge_listings
from kimi_gateway.engine.reasoning_store import (
    ReasoningStore,
    ReasoningTap,
    missing_ids,
    offers_tools,
    scope_of,
)
from kimi_gateway.engine.reliable import Reliability
from kimi_gateway.engine.routing import Router, Target


@dataclasses.dataclass(frozen=True, slots=True)
class EngineOptions:
    # The work one request may ask for (engine/limits.py).
    limits: RequestLimits = dataclasses.field(default_factory=RequestLimits)
    upstream_stream: Literal["auto", "always", "match"] = "auto"
    upstream_stream_max_tokens: int = 1024  # auto: a shorter reply may come in one body
    report_model: Literal["requested", "upstream"] = "requested"
    models_cache_seconds: float = 300.0
    # Forced tool calls and unrequested thinking (engine/forced_tools.py, hidden_thinking.py).
    replies: ReplyOptions = dataclasses.field(default_factory=ReplyOptions)


class Engine:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        router: Router,
        *,
        before: Sequence[BeforeHook],
        after: Sequence[AfterHook] = (),
        options: EngineOptions = EngineOptions(),
        clock: Callable[[], float] = time.perf_counter,
        reliability: Reliability | None = None,
        reasoning: ReasoningStore | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.reasoning = reasoning  # tool turns' reasoning, for OpenAI clients that drop it
        self.reliability = reliability or Reliability()
        self.router = router
        self.before = list(before)
        self.after = list(after)
        self.options = options
        self.clock = clock
        self._models: tuple[float, list[ListedModel]] | None = None  # (expires, models)

    async def prepare(
        self,
        request: Request,
        principal: Principal,
        outcome: Outcome,
        *,
        counting: bool = False,
        heavy: bool = False,
    ) -> Target:
        """Route ``request`` and run the before-hooks: what generation and token counting
        share. Fills the outcome's model and upstream fields. ``heavy``: a large request,
        whose limits are checked in a worker thread (its schemas may hold 100k nodes)."""
        outcome.model, outcome.stream = request.model, request.stream
        outcome.key_id = principal.key_id
        if heavy:
            await asyncio.to_thread(check_request, request, self.options.limits)
        else:
            check_request(request, self.options.limits)  # tools, messages, schemas
        target = self.router.resolve(request.model, outcome.client)
        outcome.upstream, outcome.upstream_model = target.upstream.name, target.model
        outcome.routed_upstream = target.upstream.name
        dispatch = Dispatch(request, principal, target, outcome.client, outcome, counting)
        for hook in self.before:
            await hook(dispatch)
        return target

    def _streams_upstream(self, request: Request) -> bool:
        """Whether a non-streaming request is streamed from the upstream (and folded). A
        stream is what survives a long generation: Kimi, and proxies before it, may cut a
        non-streaming call before its head arrives (docs/kimi.md §17.7). ``auto`` streams
        unless ``max_tokens`` (which counts reasoning too, §4.1) bounds the reply to
        ``upstream_stream_max_tokens``: such a reply takes seconds, and one body costs
        0.1-0.3 ms less CPU than a folded stream (bench/LARGE.md)."""
        mode = self.options.upstream_stream
        if mode != "auto":
            return mode == "always"
        bound = request.max_tokens
        return bound is None or bound > self.options.upstream_stream_max_tokens

    async def open(
        self, request: Request, principal: Principal, outcome: Outcome, ctx: CallContext
    ) -> Generation:
        """Route, admit and open one generation; on failure the after-hooks have already run
        and the GatewayError propagates (nothing has reached the client)."""
        outcome.started = self.clock()
        try:
            target = await self.prepare(request, principal, outcome, heavy=ctx.heavy)
            stream = request.stream or self._streams_upstream(request)
            outgoing = replace(
                request,
                model=target.model,
                stream=stream,
                include_usage=stream or request.include_usage,
            )
            if ctx.key_id != principal.key_id and self.reliability.queues:
                ctx = replace(ctx, key_id=principal.key_id)  # per-key limits
            tap, ctx = await self._reasoning(outgoing, principal, outcome, ctx)
            opened = await open_choices(target.upstream, outgoing, ctx)  # n: engine/fanout.py
            if tap is not None:
                opened = await tap.tapped(opened)
        except BaseException as exc:
            outcome.error = exc.kind if isinstance(exc, GatewayError) else "client_closed"
            if isinstance(exc, GatewayError):
                outcome.upstream_request_id = exc.upstream_request_id
                outcome.attempts = exc.attempts
            self.ended(outcome)
            raise
        outcome.first_event = self.clock()
        outcome.upstream, outcome.upstream_model = opened.upstream, opened.model
        outcome.upstream_request_id = opened.request_id
        outcome.diagnostics, outcome.attempts = opened.diagnostics, opened.attempts
        reported = request.model if self.options.report_model == "requested" else target.model
        generation = Generation(self, opened, outcome, reported)
        replies = self.options.replies
        if not needs_guard(outgoing, outcome.client, opened.diagnostics, replies):
            return generation
        from kimi_gateway.engine.guarded import guard_reply  # it subclasses Generation

        async def reopen(again: Request) -> Opened:
            reopened = await open_choices(target.upstream, again, ctx)  # n, as the first
            return reopened if tap is None else await tap.tapped(reopened)

        return await guard_reply(self, generation, outgoing, reopen, replies)

    async def _reasoning(
        self, request: Request, principal: Principal, outcome: Outcome, ctx: CallContext
    ) -> tuple[ReasoningTap | None, CallContext]:
        """OpenAI Chat clients (issue 9 item 6): the reasoning their tool turns came back
        without, looked up for the quirk that restores it, and a tap that gives this reply's
        tool calls ids of their own and remembers its reasoning (engine/reasoning_store.py)."""
        store = self.reasoning
        if store is None or outcome.client != "openai_chat":
            return None, ctx
        scope = scope_of(principal.key_id)
        wanted = missing_ids(request)
        found = await store.recall(scope, wanted) if wanted else None
        if found:
            ctx = replace(ctx, reasoning=found)
        return (ReasoningTap(store, scope) if offers_tools(request) else None), ctx

    async def count_tokens(
        self, request: Request, principal: Principal, outcome: Outcome, ctx: CallContext
    ) -> int:
        """The upstream's estimate of ``request``'s input tokens, routed and admitted as a
        generation would be."""
        target = await self.prepare(request, principal, outcome, counting=True, heavy=ctx.heavy)
        outgoing = replace(request, model=target.model, stream=False)
        return await target.upstream.count_tokens(outgoing, ctx)

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        """Every model a client may ask for: the routes, then what each upstream lists, with
        what is known of each (engine/model_list.py; cached for ``models_cache_seconds``)."""
        now = self.clock()
        if self._models is not None and now < self._models[0]:
            return list(self._models[1])
        listed = await asyncio.gather(*(up.models(ctx) for up in self.upstreams.values()))
        by_name = dict(zip(self.upstreams, listed, strict=True))
        models = merge_listings(self.router.advertised(), by_name, self._route_target)
        self._models = (now + self.options.models_cache_seconds, models)
        return list(models)

    def _route_target(self, name: str) -> tuple[Upstream, str]:
        target = self.router.resolve(name, "openai_chat")
        return target.upstream, target.model

    async def aclose(self) -> None:
        """Release what the reliability wrappers hold (shared-state connections, sessions)."""
        await self.reliability.aclose()

    def ended(self, outcome: Outcome) -> None:
        outcome.ended = self.clock()
        for hook in self.after:
            hook(outcome)


class Generation:
    """One opened generation: read it as batches (:meth:`batches`) or whole
    (:meth:`response`), then :meth:`close` it (always; a face does so in ``finally``)."""

    def __init__(self, engine: Engine, opened: Opened, outcome: Outcome, reported: str) -> None:
        self.opened = opened
        self.outcome = outcome
        self.reported_model = reported
        self._engine = engine
        self._closed = False
        self.clean = False  # ended with Done

    def _head(self, batch: Batch) -> Batch:
        """The first batch with the model the client should see and a creation time (Anthropic
        upstreams send none; OpenAI clients expect one)."""
        start = batch[0]
        if isinstance(start, MessageStart):
            created = start.created if start.created is not None else int(time.time())
            batch[0] = MessageStart(start.id, self.reported_model, created)  # ours: no copy
        return batch

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """The events, as they arrive, ending with Done or StreamError (an upstream stream that
        just stops gets a StreamError). Usage and errors are noted on the outcome; stop
        sequences the upstream could not take are enforced here (core/stops.py)."""
        if self.opened.complete is not None:
            raise GatewayError("server", "this upstream answered in one body, not a stream")
        outcome = self.outcome
        usage = outcome.usage
        watch = StopWatch(self.opened.enforce_stop) if self.opened.enforce_stop else None
        batch: Batch | None = self._head(self.opened.first)
        rest = self.opened.rest
        while batch is not None:
            if watch is not None:
                batch = watch.feed(batch)
            for event in batch:
                if type(event) in _PASSING:  # deltas, most of a stream: nothing to note
                    continue
                if isinstance(event, UsageReport):
                    usage = usage.merge(event.usage)
                    outcome.usage, outcome.usage_seen = usage, True
                elif isinstance(event, PartStart):
                    if event.kind == "tool_call":
                        _count_tool_call(outcome, event.tool_name, event.tool_kind)
                elif isinstance(event, StreamError):
                    outcome.error = event.error.kind
                    yield batch
                    return
                elif isinstance(event, Done):
                    # A stop the gateway enforced leaves the upstream mid-stream: close, not drain.
                    self.clean = watch is None or not watch.done
                    yield batch
                    return
            if batch:
                yield batch
            batch = await anext(rest, None)
        error = GatewayError("server", "Kimi's stream ended early")
        outcome.error = error.kind
        yield [StreamError(error)]

    async def response(self) -> Response:
        """The whole reply (folded from the stream, or the upstream's one body), with the model
        the client should see; a StreamError raises its GatewayError."""
        result = self.opened.complete
        if result is None:
            folder = Folder()
            async for batch in self.batches():
                for event in batch:
                    folder.feed(event)
            result = folder.response()
        else:
            self.outcome.usage, self.outcome.usage_seen = result.usage, True
            self.clean = True
            for part in result.parts:
                if isinstance(part, ToolCallPart):
                    _count_tool_call(self.outcome, part.name, part.kind)
            if self.opened.enforce_stop:
                result = cut_response(result, self.opened.enforce_stop)
        created = result.created if result.created is not None else int(time.time())
        return replace(result, model=self.reported_model, created=created)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.opened.diagnostics

    async def finish(self) -> None:
        """After a clean end: let the upstream connection go back to the pool, then close."""
        try:
            if self.clean:
                await self.opened.finish()
        finally:
            await self.close()

    async def close(self, error: str | None = None) -> None:
        """Release the upstream call and run the after-hooks (once). ``error``: why the face
        stopped early (``client_closed``, ``timeout``), if it did."""
        if self._closed:
            return
        self._closed = True
        if error is not None and self.outcome.error is None:
            self.outcome.error = error
        try:
            await self.opened.aclose()
        finally:
            self._engine.ended(self.outcome)


# Events Generation.batches passes on without a look (exact types: the event classes are final).
_PASSING = frozenset(
    {TextDelta, ThinkingDelta, SignatureDelta, ToolArgumentsDelta, PartEnd, Finish}
)


def _count_tool_call(outcome: Outcome, name: str | None, kind: str) -> None:
    """A tool call in the reply; built-in ones (Kimi's ``$web_search``, billed per call,
    docs/kimi.md §8.5) by name too."""
    outcome.tool_calls += 1
    if kind == "builtin_function" or (name or "").startswith("$"):
        outcome.builtin_tools = (*outcome.builtin_tools, name or "")
