"""Hosted (non-function) tools of a Responses request, and Kimi's ``$web_search`` run inside one
response.

The Responses API's ``web_search`` tool is answered by the server: the client sees a
``web_search_call`` item and the answer, never a call to run. Kimi's counterpart is the
built-in ``$web_search`` (docs/kimi.md §8.5), which the Open Platform's OpenAI face has: the
model calls it, the caller hands the call's arguments back unchanged as the tool result, and
Kimi runs the search on that next call. :func:`plan_tools` offers ``$web_search`` for a
``web_search`` tool where the routed surface has it, unless the tool says
``external_web_access: false`` (Codex's default "cached" mode: Kimi only searches live).
Otherwise the tool is not offered, with a diagnostic: Codex sends ``web_search`` on every
request, and a refusal would stop it working on Kimi Code. :class:`SearchRounds` then runs
those rounds inside the one response, part indexes running on and usage summed. Every other
hosted tool type is a 400 naming it: Kimi has no such tool, and answering without it would
change what the client asked for. ``namespace`` tools (Codex's sub-agent tools) arrive here
already flattened into function tools (dialects/openai_responses/namespaces.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    Request,
    Response,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import Principal
from kimi_gateway.core.upstream import Batch, CallContext, Upstream
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses.response import WEB_SEARCH
from kimi_gateway.engine import Engine, Generation

_KEPT = ("namespace",)  # one that was not flattened (no function tools): reported, not sent


def is_web_search(kind: Any) -> bool:
    return isinstance(kind, str) and kind.startswith(("web_search", "web_search_preview"))


def searchable(upstream: Upstream) -> bool:
    """§8.5: ``$web_search`` is a built-in of the Open Platform's OpenAI face."""
    return upstream.product == "platform" and upstream.dialect == "openai_chat"


def _no_search(tool: Mapping[str, Any], upstream: Upstream) -> str | None:
    """Why Kimi's search cannot stand in for this web_search tool, or None."""
    if not searchable(upstream):
        return f"{upstream.name} has no built-in web search"
    if tool.get("external_web_access") is False:
        # Codex's default ``web_search = "cached"``: results from a cached index only. Kimi's
        # search goes to the live web, which the client said not to do.
        return "external_web_access is false and Kimi's $web_search is a live search"
    return None


def plan_tools(request: Request, upstream: Upstream) -> tuple[Request, bool]:
    """The request with its hosted tools placed, and whether Kimi's search was offered."""
    own = request.openai_responses
    if own is None or not own.hosted_tools:
        return request, False
    tools, kept = list(request.tools), []
    diags = list(request.diagnostics)
    search = False
    for i, tool in enumerate(own.hosted_tools):
        kind = tool.get("type")
        if is_web_search(kind):
            why = _no_search(tool, upstream)
            if why is None and not search:
                tools.append(Tool(WEB_SEARCH, kind="builtin_function"))
                search = True
            elif why is not None:
                diags.append(Diagnostic("dropped_tool", f"{kind}: {why}; not offered"))
        elif kind in _KEPT:
            kept.append(tool)
        else:
            raise GatewayError(
                "invalid_request",
                f"The {kind!r} tool is not supported: Kimi has no such built-in tool (this "
                "gateway offers function tools and web_search). Remove it from 'tools'.",
                param=f"tools[{len(request.tools) + i}]",
            )
    own = dataclasses.replace(own, hosted_tools=tuple(kept))
    changed = dataclasses.replace(
        request, tools=tuple(tools), openai_responses=own, diagnostics=tuple(diags)
    )
    return changed, search


def _searches(response: Response) -> list[ToolCallPart]:
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    if response.stop_reason != "tool_use" or not calls:
        return []
    if all(c.name == WEB_SEARCH for c in calls):  # Kimi reports either call type (§8.5)
        return calls
    return []


def next_round(request: Request, response: Response, calls: list[ToolCallPart]) -> Request:
    """§8.5: the round's turn, then each call's arguments back unchanged as its result."""
    results = tuple(ToolResultPart(c.id, (TextPart(c.arguments),), name=WEB_SEARCH) for c in calls)
    messages = (*request.messages, Message("assistant", response.parts), Message("user", results))
    return dataclasses.replace(request, messages=messages)


def _shift(event: StreamEvent, offset: int) -> StreamEvent:
    if offset and isinstance(
        event, PartStart | TextDelta | ThinkingDelta | ToolArgumentsDelta | PartEnd
    ):
        return dataclasses.replace(event, index=event.index + offset)
    return event


def _add(a: Usage, b: Usage) -> Usage:
    pairs = zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True)
    return Usage(*(x + y for x, y in pairs))


class SearchRounds:
    """One response made of Kimi calls joined at their ``$web_search`` rounds: read like an
    engine Generation (relay.Generating). Each round is its own engine generation (its own
    after-hooks: each is one Kimi call); the first round's outcome is the request's."""

    def __init__(
        self,
        engine: Engine,
        first: Generation,
        request: Request,
        principal: Principal,
        ctx: CallContext,
        rounds: int,
    ) -> None:
        self.outcome = first.outcome
        self._engine, self._current, self._request = engine, first, request
        self._principal, self._ctx, self._rounds = principal, ctx, rounds
        self._diagnostics = first.diagnostics

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self._diagnostics

    async def batches(self) -> AsyncIterator[Batch]:
        offset, usage, request = 0, Usage(), self._request
        for round_number in range(self._rounds + 1):
            folder, held = Folder(), list[StreamEvent]()
            async for batch in self._current.batches():
                out: Batch = []
                for event in batch:
                    if not isinstance(event, StreamError):
                        folder.feed(event)
                    if isinstance(event, Finish | UsageReport | Done):
                        held.append(event)
                    elif not (round_number and isinstance(event, MessageStart)):
                        out.append(_shift(event, offset))
                if out:
                    yield out
                if isinstance(batch[-1], StreamError):
                    return
            response = folder.response()
            usage = _add(usage, response.usage)
            calls = _searches(response)
            if not calls or round_number == self._rounds:
                yield self._ending(held, usage, bool(calls))
                return
            request = next_round(request, response, calls)
            offset += len(response.parts)
            await self._current.finish()
            self._current = await self._open(request)

    def _ending(self, held: list[StreamEvent], usage: Usage, searching: bool) -> Batch:
        if searching:
            limit = self._rounds
            error = GatewayError("server", f"Kimi asked for more than {limit} web search rounds")
            return [StreamError(error)]
        kept = [e for e in held if isinstance(e, Finish)]
        return [*kept, UsageReport(usage), Done()]

    async def _open(self, request: Request) -> Generation:
        outcome = _round_outcome(self.outcome)
        return await self._engine.open(request, self._principal, outcome, self._ctx)

    async def response(self) -> Response:
        """The whole reply, folded; a StreamError raises its GatewayError."""
        folder = Folder()
        async for batch in self.batches():
            for event in batch:
                if isinstance(event, StreamError):
                    raise event.error
                folder.feed(event)
        return folder.response()

    async def finish(self) -> None:
        await self._current.finish()

    async def close(self, error: str | None = None) -> None:
        await self._current.close(error)


def _round_outcome(first: Outcome) -> Outcome:
    """A fresh outcome for one more Kimi call of the same request: who and which request it
    was copied over, nothing of the first call's results."""
    fresh = Outcome(first.client)
    for name in ("route", "request_id"):
        if hasattr(first, name):
            setattr(fresh, name, getattr(first, name))
    return fresh


def search_opener(
    engine: Engine, rounds: int
) -> Callable[[Request, Principal, Outcome, CallContext], Any]:
    async def open_rounds(
        request: Request, principal: Principal, outcome: Outcome, ctx: CallContext
    ) -> SearchRounds:
        first = await engine.open(request, principal, outcome, ctx)
        return SearchRounds(engine, first, request, principal, ctx, rounds)

    return open_rounds
