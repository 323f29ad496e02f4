"""Reasoning remembered across tool turns, for OpenAI clients that drop it (issue 9 item 6).

With thinking on, Kimi needs every earlier assistant tool-call turn's ``reasoning_content``
(docs/kimi.md §8.3, §F2.1); most SDK-based agents send the assistant message back without it.
So for OpenAI Chat clients the engine gives every tool call of a reply an id of its own
(:class:`ReasoningTap`: Kimi's ids, ``name:N``, repeat from one conversation to the next,
§8.1) and remembers the reply's reasoning under each id, scoped to the gateway key, in a
bounded store with a TTL: :class:`MemoryReasoningStore` (one process) or
:class:`RedisReasoningStore` (replicas, ``redis_url``). The next request's turns that lack
their reasoning are looked up (:func:`missing_ids`) and the Kimi quirk ``restore_reasoning``
puts the text back; only calls the gateway never saw get the placeholder, with a diagnostic.

Remembering happens before the reply's last event reaches the client, so a client's next
turn always finds it. A store that fails (Redis down) only logs: the request goes on as if
nothing was remembered.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

from kimi_gateway.core import history
from kimi_gateway.core.events import Done, PartStart, ThinkingDelta
from kimi_gateway.core.model import (
    Message,
    Request,
    Response,
    ThinkingPart,
    ToolCallPart,
    derived,
)
from kimi_gateway.core.upstream import Batch, Opened
from kimi_gateway.settings import Settings

log = logging.getLogger(__name__)


class ReasoningStore(Protocol):
    async def remember(self, scope: str, items: Mapping[str, str]) -> None:
        """Keep ``items`` (tool-call id → the reasoning of the turn that made it)."""
        ...

    async def recall(self, scope: str, ids: Sequence[str]) -> dict[str, str]:
        """The reasoning still kept for ``ids`` (absent ids are left out)."""
        ...

    async def aclose(self) -> None: ...


class MemoryReasoningStore:
    """One process's store: oldest first out past ``max_entries`` or ``max_bytes`` (the
    reasoning texts' UTF-8 size, roughly), each entry gone ``ttl`` seconds after it came."""

    def __init__(
        self,
        ttl: float,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._max_entries, self._max_bytes = ttl, max_entries, max_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()
        self._bytes = 0

    async def remember(self, scope: str, items: Mapping[str, str]) -> None:
        expires = self._clock() + self._ttl
        for call_id, text in items.items():
            self._drop((scope, call_id))
            self._entries[(scope, call_id)] = (expires, text)
            self._bytes += len(text)
        while self._entries and (
            len(self._entries) > self._max_entries or self._bytes > self._max_bytes
        ):
            self._drop(next(iter(self._entries)))

    async def recall(self, scope: str, ids: Sequence[str]) -> dict[str, str]:
        now, found = self._clock(), {}
        for call_id in ids:
            entry = self._entries.get((scope, call_id))
            if entry is None:
                continue
            if entry[0] <= now:
                self._drop((scope, call_id))
            else:
                found[call_id] = entry[1]
        return found

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    async def aclose(self) -> None:
        self._entries.clear()


class RedisReasoningStore:
    """The store replicas share: one Redis string per (scope, call id), expiring after ``ttl``
    (Redis bounds it: ``maxmemory`` with an eviction policy is the deployment's)."""

    def __init__(self, url: str, prefix: str, ttl: float) -> None:
        from redis.asyncio import Redis  # only where Redis is configured

        self.redis: Any = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix, self._ttl_ms = prefix, max(1, int(ttl * 1000))

    def _key(self, scope: str, call_id: str) -> str:
        return f"{self._prefix}{scope}:{call_id}"

    async def remember(self, scope: str, items: Mapping[str, str]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for call_id, text in items.items():
                    pipe.set(self._key(scope, call_id), text.encode(), px=self._ttl_ms)
                await pipe.execute()
        except Exception as exc:  # redis.RedisError, OSError, timeouts: all mean "not now"
            log.warning("reasoning not remembered (Redis: %s)", type(exc).__name__)

    async def recall(self, scope: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        try:
            values = await self.redis.mget([self._key(scope, i) for i in ids])
        except Exception as exc:  # as above: the placeholder policy applies instead
            log.warning("reasoning not recalled (Redis: %s)", type(exc).__name__)
            return {}
        return {i: v.decode() for i, v in zip(ids, values, strict=True) if v is not None}

    async def aclose(self) -> None:
        await self.redis.aclose()


def reasoning_store(settings: Settings) -> ReasoningStore | None:
    """The store ``quirks.remember_reasoning`` asks for: Redis when ``redis_url`` is set
    (replicas share it, under ``reliability.redis_prefix``), else this process's memory."""
    memory = settings.quirks.remember_reasoning
    if not memory.enabled:
        return None
    if settings.redis_url:
        prefix = f"{settings.reliability.redis_prefix}:reasoning:"
        return RedisReasoningStore(settings.redis_url, prefix, memory.ttl_seconds)
    return MemoryReasoningStore(memory.ttl_seconds, memory.max_entries, memory.max_bytes)


def scope_of(key_id: str | None) -> str:
    """Whose reasoning: a gateway key's own; every keyless caller shares one scope."""
    return key_id or "-"


def missing_ids(request: Request) -> list[str]:
    """The tool-call ids of the assistant turns that came back without their reasoning."""
    none: tuple[str, ...] = ()
    found = history.walk(request.messages, "engine.missing_ids/history", _missing, none)
    return list(found)


def _missing(
    messages: Sequence[Message], start: int, end: int, found: tuple[str, ...]
) -> tuple[str, ...]:
    """``found`` and the ids messages[start:end] add (core/history.py ``walk``)."""
    out = list(found)
    for i in range(start, end):
        if messages[i].role == "assistant":
            facts = derived(messages[i])  # once per message object (core/model.py)
            ids = facts.get("engine.missing_ids")
            if ids is None:
                ids = facts["engine.missing_ids"] = _missing_ids(messages[i])
            out.extend(ids)
    return tuple(out) if len(out) != len(found) else found


def _missing_ids(message: Message) -> tuple[str, ...]:
    if not _lacks_reasoning(message):
        return ()
    return tuple(part.id for part in message.parts if isinstance(part, ToolCallPart))


def offers_tools(request: Request) -> bool:
    """Whether a reply to ``request`` may call a tool: one is offered (top-level, Kimi's
    builtins among them, or a system message's dynamic tools). Without one there is no call to
    give an id and nothing to remember, so the engine taps no reply (issue 8: the plain path
    pays for no feature it does not use)."""
    return bool(request.tools) or any(m.tools for m in request.messages)


def _lacks_reasoning(message: Message) -> bool:
    return not any(isinstance(p, ThinkingPart) and not p.redacted for p in message.parts)


_TAPPED = frozenset({PartStart, ThinkingDelta, Done})  # the events the tap reads or changes


class ReasoningTap:
    """One reply's tool calls, given ids of their own (``call_<nonce>_<n>``), and its
    reasoning per choice, remembered under each of those ids when the reply is done."""

    def __init__(self, store: ReasoningStore, scope: str) -> None:
        self._store, self._scope = store, scope
        self._nonce = ""  # made at the first call: most replies have none
        self._choice_of: dict[int, int] = {}  # thinking part index → its choice
        self._reasoning: dict[int, list[str]] = {}  # choice → reasoning pieces
        self._calls: list[tuple[str, int]] = []  # (minted id, choice)
        self._minted = 0
        self.ended = False  # the last batch fed held the reply's Done

    def _mint(self, choice: int) -> str:
        if not self._nonce:
            self._nonce = secrets.token_hex(8)
        minted = f"call_{self._nonce}_{self._minted}"
        self._minted += 1
        self._calls.append((minted, choice))
        return minted

    def feed(self, batch: Batch) -> Batch:
        """``batch`` with its tool calls' ids minted; notes
        the reasoning, and whether the reply's end (Done) went through (``self.ended``)."""
        out: Batch = []
        for event in batch:
            if type(event) not in _TAPPED:  # most events: one set look-up (final classes)
                out.append(event)
                continue
            if type(event) is Done:
                self.ended = True
            elif isinstance(event, PartStart) and event.kind == "thinking":
                self._choice_of[event.index] = event.choice
            elif isinstance(event, ThinkingDelta) and event.index in self._choice_of:
                self._reasoning.setdefault(self._choice_of[event.index], []).append(event.text)
            elif isinstance(event, PartStart) and event.tool_call_id is not None:
                minted = self._mint(event.choice)
                event = dataclasses.replace(event, tool_call_id=minted)
            out.append(event)
        return out

    def response(self, response: Response) -> Response:
        """A reply that came in one body: the same ids and reasoning as a stream's."""
        texts = [p.text for p in response.parts if isinstance(p, ThinkingPart) and not p.redacted]
        if texts:
            self._reasoning[0] = texts
        parts = tuple(
            dataclasses.replace(p, id=self._mint(0)) if isinstance(p, ToolCallPart) else p
            for p in response.parts
        )
        return dataclasses.replace(response, parts=parts)

    async def flush(self) -> None:
        items = {}
        for minted, choice in self._calls:
            text = "".join(self._reasoning.get(choice, ()))
            if text:
                items[minted] = text
        if items:
            await self._store.remember(self._scope, items)
        self._calls.clear()

    async def tapped(self, opened: Opened) -> Opened:
        """``opened`` with its events (or its one body) passed through this tap (again for a
        re-asked reply: engine/forced_tools.py; it starts afresh)."""
        self._choice_of.clear()
        self._reasoning.clear()
        self._calls.clear()
        if opened.complete is not None:
            complete = self.response(opened.complete)
            await self.flush()
            return dataclasses.replace(opened, complete=complete)
        self.ended = False
        first = self.feed(opened.first)
        if self.ended:
            await self.flush()
        return dataclasses.replace(opened, first=first, rest=self._rest(opened.rest))

    async def _rest(self, rest: AsyncIterator[Batch]) -> AsyncIterator[Batch]:
        async for batch in rest:
            fed = self.feed(batch)
            if self.ended:
                await self.flush()  # before the reply's end reaches the client
            yield fed
