"""The engine against the real emulator: hooks before dispatch may refuse (and nothing goes
upstream), after-hooks see every ending once (done, upstream error, refused, client gone), and
a Generation is read as batches or whole."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import Done, MessageStart, TextDelta
from kimi_gateway.core.model import Message, Request, TextPart
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import ANONYMOUS, Principal
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.engine import Dispatch, Engine, build_engine
from kimi_gateway.settings import Settings

TEXT = "Hello @@text:Hi there.@@"
pytestmark = pytest.mark.anyio


def _request(text: str = TEXT, *, stream: bool = True, model: str = "kimi-k2.6") -> Request:
    return Request(
        model=model, messages=(Message("user", (TextPart(text),)),), stream=stream, max_tokens=50
    )


class Recorder:
    def __init__(self) -> None:
        self.before: list[Dispatch] = []
        self.after: list[Outcome] = []
        self.refuse: GatewayError | None = None

    async def admit(self, dispatch: Dispatch) -> None:
        self.before.append(dispatch)
        if self.refuse is not None:
            raise self.refuse

    def ended(self, outcome: Outcome) -> None:
        self.after.append(outcome)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _engine(server: EmulatorServer, session: aiohttp.ClientSession, rec: Recorder) -> Engine:
    settings = Settings(
        api_key=SecretStr("sk-engine-test"), base_url=server.url + "/v1", access_log="off"
    )
    return build_engine(settings, session, before=[rec.admit], after=[rec.ended])


async def test_a_stream_in_batches_then_the_outcome_once(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    engine = _engine(kimi_emulator, session, rec)
    outcome = Outcome("openai_chat")
    generation = await engine.open(_request(), ANONYMOUS, outcome, CallContext())
    events = [event async for batch in generation.batches() for event in batch]
    await generation.finish()
    await generation.close()  # a second close runs nothing twice
    assert isinstance(events[0], MessageStart)
    assert events[0].model == "kimi-k2.6"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hi there."
    assert isinstance(events[-1], Done)
    assert [d.target.upstream.name for d in rec.before] == ["platform"]
    assert rec.after == [outcome]
    assert (outcome.upstream, outcome.upstream_model, outcome.error) == (
        "platform",
        "kimi-k2.6",
        None,
    )
    assert outcome.usage_seen
    assert outcome.usage.output > 0
    assert outcome.upstream_request_id is not None
    assert outcome.ended is not None


async def test_a_before_hook_refusal_sends_nothing_upstream(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    rec.refuse = GatewayError("rate_limit", "slow down", retry_after=3)
    engine = _engine(kimi_emulator, session, rec)
    outcome = Outcome("anthropic_messages")
    with pytest.raises(GatewayError) as caught:
        await engine.open(_request(), ANONYMOUS, outcome, CallContext())
    assert caught.value is rec.refuse
    assert kimi_emulator.requests() == []
    assert rec.after == [outcome]
    assert outcome.error == "rate_limit"


async def test_authorisation_runs_before_the_other_hooks(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    engine = _engine(kimi_emulator, session, rec)
    limited = Principal(key_id="k1", models=("kimi-k2.5",))
    outcome = Outcome("openai_chat")
    with pytest.raises(GatewayError) as caught:
        await engine.open(_request(), limited, outcome, CallContext())
    assert (caught.value.kind, caught.value.message) == (
        "permission",
        "this gateway key may not use the model 'kimi-k2.6'",
    )
    assert rec.before == []
    assert (outcome.key_id, outcome.error) == ("k1", "permission")


async def test_an_upstream_error_reaches_the_after_hooks(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    engine = _engine(kimi_emulator, session, rec)
    outcome = Outcome("openai_chat")
    with pytest.raises(GatewayError) as caught:
        await engine.open(_request("@@error:429@@"), ANONYMOUS, outcome, CallContext())
    assert (caught.value.kind, caught.value.retry_after) == ("overloaded", 1.0)
    assert [o.error for o in rec.after] == ["overloaded"]
    assert outcome.upstream_request_id is not None


async def test_a_client_gone_mid_stream_is_recorded(
    kimi_emulator_factory: Any, session: aiohttp.ClientSession
) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 50}])
    rec = Recorder()
    engine = _engine(server, session, rec)
    outcome = Outcome("openai_chat")
    generation = await engine.open(_request(), ANONYMOUS, outcome, CallContext())
    batches = generation.batches()
    await anext(batches)
    await batches.aclose()
    await generation.close("client_closed")
    assert [o.error for o in rec.after] == ["client_closed"]
    await asyncio.sleep(0.2)
    assert server.requests()[-1].get("cancelled") is True


async def test_non_streaming_is_the_stream_folded_or_the_one_body(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    engine = _engine(kimi_emulator, session, rec)
    texts = []
    for upstream_stream in ("always", "match"):
        engine.options = type(engine.options)(upstream_stream=upstream_stream)
        outcome = Outcome("openai_chat")
        generation = await engine.open(_request(stream=False), ANONYMOUS, outcome, CallContext())
        try:
            reply = await generation.response()
        finally:
            await generation.close()
        texts.append(([p for p in reply.parts if isinstance(p, TextPart)], reply.model))
        assert outcome.usage_seen
        assert outcome.error is None
    assert texts == [([TextPart("Hi there.")], "kimi-k2.6")] * 2
    assert [r["body"].get("stream", False) for r in kimi_emulator.requests()] == [True, False]


async def test_auto_streams_upstream_unless_max_tokens_bounds_the_reply(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    """The default, ``auto``: one body for a reply bounded to 1024 tokens, a stream (folded)
    for a longer bound or none, and a client's stream is always a stream."""
    engine = _engine(kimi_emulator, session, Recorder())
    assert engine.options.upstream_stream == "auto"
    cases = [(50, False), (1024, False), (1025, False), (None, False), (50, True)]
    for max_tokens, stream in cases:
        request = dataclasses.replace(_request(stream=stream), max_tokens=max_tokens)
        generation = await engine.open(request, ANONYMOUS, Outcome("openai_chat"), CallContext())
        try:
            if stream:
                async for _ in generation.batches():
                    pass
            else:
                reply = await generation.response()
                assert [p for p in reply.parts if isinstance(p, TextPart)] == [
                    TextPart("Hi there.")
                ]
        finally:
            await generation.close()
    sent = [r["body"].get("stream", False) for r in kimi_emulator.requests()]
    assert sent == [False, False, True, True, True]


async def test_count_tokens_shares_routing_and_hooks(
    kimi_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    rec = Recorder()
    engine = _engine(kimi_emulator, session, rec)
    outcome = Outcome("anthropic_messages")
    total = await engine.count_tokens(_request(stream=False), ANONYMOUS, outcome, CallContext())
    assert total > 0
    assert [d.target.upstream.name for d in rec.before] == ["platform_anthropic"]
    assert outcome.upstream == "platform_anthropic"
