"""The reasoning store's bounds (entries, bytes, TTL) and the tap that mints ids and collects
each choice's reasoning (engine/reasoning_store.py; issue 9 item 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kimi_gateway.core.events import (
    Done,
    PartEnd,
    PartStart,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
)
from kimi_gateway.core.model import (
    Message,
    Request,
    Response,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
)
from kimi_gateway.core.upstream import Batch, Opened
from kimi_gateway.core.usage import Usage
from kimi_gateway.engine.reasoning_store import (
    MemoryReasoningStore,
    ReasoningTap,
    RedisReasoningStore,
    missing_ids,
    offers_tools,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    store = MemoryReasoningStore(10, 100, 10_000, clock)

    async def body() -> None:
        await store.remember("k", {"a": "why"})
        clock.now = 9.9
        assert await store.recall("k", ["a", "b"]) == {"a": "why"}
        assert await store.recall("other", ["a"]) == {}
        clock.now = 10.0
        assert await store.recall("k", ["a"]) == {}

    asyncio.run(body())


def test_oldest_entries_go_first_past_the_count_or_the_bytes() -> None:
    by_count = MemoryReasoningStore(60, 2, 10_000)
    by_bytes = MemoryReasoningStore(60, 100, 10)

    async def body() -> None:
        await by_count.remember("k", {"a": "1", "b": "2"})
        await by_count.remember("k", {"c": "3"})
        assert await by_count.recall("k", ["a", "b", "c"]) == {"b": "2", "c": "3"}
        await by_bytes.remember("k", {"a": "12345", "b": "12345"})
        await by_bytes.remember("k", {"c": "1"})
        assert await by_bytes.recall("k", ["a", "b", "c"]) == {"b": "12345", "c": "1"}

    asyncio.run(body())


def test_the_tap_mints_ids_and_remembers_each_choices_reasoning() -> None:
    store = MemoryReasoningStore(60, 100, 10_000)
    tap = ReasoningTap(store, "k")
    first: Batch = [
        PartStart(0, "thinking"),
        ThinkingDelta(0, "think "),
        PartStart(1, "thinking", choice=1),
        ThinkingDelta(1, "other"),
        ThinkingDelta(0, "hard"),
        PartEnd(0),
    ]
    rest: list[Batch] = [
        [PartStart(2, "tool_call", "f:0", "f"), ToolArgumentsDelta(2, "{}"), PartEnd(2)],
        [PartStart(3, "tool_call", "f:0", "f", choice=1), PartStart(4, "text"), TextDelta(4, "x")],
        [Done()],
    ]

    async def batches() -> AsyncIterator[Batch]:
        for batch in rest:
            yield batch

    async def body() -> None:
        opened = await tap.tapped(Opened("u", "m", None, (), first=first, rest=batches()))
        seen = [e for batch in [opened.first, *[b async for b in opened.rest]] for e in batch]
        ids = [e.tool_call_id for e in seen if isinstance(e, PartStart) and e.tool_call_id]
        assert len(set(ids)) == 2
        assert all(i.startswith("call_") for i in ids)
        assert await store.recall("k", ids) == {ids[0]: "think hard", ids[1]: "other"}

    asyncio.run(body())


def test_a_reply_in_one_body_is_tapped_too() -> None:
    store = MemoryReasoningStore(60, 100, 10_000)
    reply = Response(
        "r",
        "m",
        (ThinkingPart("because"), ToolCallPart("f:0", "f", "{}")),
        "tool_use",
        Usage(),
    )

    async def body() -> None:
        opened = await ReasoningTap(store, "k").tapped(Opened("u", "m", None, (), complete=reply))
        assert opened.complete is not None
        [call] = [p for p in opened.complete.parts if isinstance(p, ToolCallPart)]
        assert call.id != "f:0"
        assert await store.recall("k", [call.id]) == {call.id: "because"}

    asyncio.run(body())


def test_missing_ids_are_the_tool_turns_without_reasoning() -> None:
    call = ToolCallPart("a", "f", "{}")
    request = Request(
        model="m",
        messages=(
            Message("user", (TextPart("hi"),)),
            Message("assistant", (call,)),
            Message("assistant", (ThinkingPart("kept"), ToolCallPart("b", "f", "{}"))),
            Message("assistant", (ThinkingPart("", redacted=True), ToolCallPart("c", "f", "{}"))),
        ),
    )
    assert missing_ids(request) == ["a", "c"]


def test_a_tap_used_again_for_a_reasked_reply_starts_afresh() -> None:
    store = MemoryReasoningStore(60, 100, 10_000)
    tap = ReasoningTap(store, "k")

    def reply(why: str) -> Response:
        parts = (ThinkingPart(why), ToolCallPart("f:0", "f", "{}"))
        return Response("r", "m", parts, "tool_use", Usage())

    async def body() -> None:
        ids = []
        for why in ("first", "second"):
            opened = await tap.tapped(Opened("u", "m", None, (), complete=reply(why)))
            assert opened.complete is not None
            ids += [p.id for p in opened.complete.parts if isinstance(p, ToolCallPart)]
        assert len(set(ids)) == 2
        assert await store.recall("k", ids) == {ids[0]: "first", ids[1]: "second"}

    asyncio.run(body())


def test_redis_down_means_nothing_remembered_never_an_error() -> None:
    store = RedisReasoningStore("redis://127.0.0.1:1/0", "kgw-test:", 60)

    async def body() -> None:
        await store.remember("k", {"a": "why"})
        assert await store.recall("k", ["a"]) == {}
        await store.aclose()

    asyncio.run(body())


def test_only_a_request_that_offers_a_tool_has_its_reply_tapped() -> None:
    """No tool offered, no call to mint an id for: the engine skips the tap (its per-event
    cost on every plain request was most of the feature's cost, bench/README.md)."""
    user = Message("user", (TextPart("hi"),))
    plain = Request("kimi-k2.6", (user,))
    assert not offers_tools(plain)
    tool = Tool("get_weather", "", {"type": "object"})
    assert offers_tools(Request("kimi-k2.6", (user,), tools=(tool,)))
    dynamic = Message("system", (), tools=(tool,))
    assert offers_tools(Request("kimi-k2.6", (dynamic, user)))
