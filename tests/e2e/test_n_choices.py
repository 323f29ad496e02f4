"""``n > 1`` through the gateway (issue 9 item 1): an OpenAI client that asks for n answers gets
n choices, each with its ``index``, streaming and not, and usage for the whole request. Kimi
returns n choices itself (docs/kimi.md §4.2, §7.1: each choice ends with its own finish chunk)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import openai
import pytest
from gateway_server import GatewayServer
from openai.types.chat import ChatCompletionMessageParam

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "@@text:one answer@@"}]
MODEL = "moonshot-v1-8k"  # n 1-5 (docs/kimi.md §4.2); k2.5 and later fix n at 1


def _client(gateway: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)


def test_every_choice_comes_back(gateway: GatewayServer) -> None:
    reply = _client(gateway).chat.completions.create(
        model=MODEL,
        messages=ASK,
        n=3,
        temperature=0.7,
    )
    got = [(c.index, c.message.content, c.finish_reason) for c in reply.choices]
    assert got == [(0, "one answer", "stop"), (1, "one answer", "stop"), (2, "one answer", "stop")]
    assert reply.usage is not None
    one = _client(gateway).chat.completions.create(
        model=MODEL,
        messages=ASK,
        temperature=0.7,
    )
    assert one.usage is not None
    assert reply.usage.completion_tokens == 3 * one.usage.completion_tokens
    assert gateway.emulator.requests()[-2]["body"]["n"] == 3


@pytest.mark.parametrize("include_usage", [False, True])
def test_every_choice_streams_with_its_index(gateway: GatewayServer, include_usage: bool) -> None:
    kwargs: dict[str, Any] = {"model": MODEL, "messages": ASK, "n": 2, "temperature": 0.7}
    if include_usage:
        kwargs["stream_options"] = {"include_usage": True}
    chunks = list(_client(gateway).chat.completions.create(**kwargs, stream=True))
    texts: dict[int, str] = defaultdict(str)
    finishes: dict[int, str | None] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason is not None:
                finishes[choice.index] = choice.finish_reason
    assert (dict(texts), finishes) == ({0: "one answer", 1: "one answer"}, {0: "stop", 1: "stop"})
    if include_usage:
        usage = chunks[-1].usage
        assert usage is not None
        assert usage.completion_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_n_at_temperature_zero_is_fanned_out(gateway: GatewayServer, stream: bool) -> None:
    """Kimi refuses n > 1 at temperature 0 (docs/kimi.md §4.2); the gateway sends n requests of
    one choice each at the client's temperature and sums their usage."""
    client = _client(gateway)
    before = len(gateway.emulator.requests())
    kwargs: dict[str, Any] = {"model": MODEL, "messages": ASK, "n": 3, "temperature": 0}
    if stream:
        kwargs["stream_options"] = {"include_usage": True}
    raw = client.chat.completions.with_raw_response.create(**kwargs, stream=stream)
    texts: dict[int, str] = defaultdict(str)
    parsed: Any = raw.parse()  # a Stream or a ChatCompletion, as ``stream`` says
    if stream:
        chunks = list(parsed)
        for chunk in chunks:
            for choice in chunk.choices:
                texts[choice.index] += choice.delta.content or ""
        usage = chunks[-1].usage
    else:
        texts.update({c.index: c.message.content or "" for c in parsed.choices})
        usage = parsed.usage
    assert dict(texts) == {0: "one answer", 1: "one answer", 2: "one answer"}
    sent = [r["body"] for r in gateway.emulator.requests()[before:]]
    assert [(b.get("n"), b["temperature"]) for b in sent] == [(None, 0)] * 3
    one = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0)
    assert usage is not None
    assert one.usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        3 * one.usage.prompt_tokens,
        3 * one.usage.completion_tokens,
    )
    assert "fanned_out" in raw.headers["x-kimi-gateway-diagnostics"]


def test_n_on_a_model_that_gives_one_answer_is_fanned_out(gateway: GatewayServer) -> None:
    """k2.5 and later fix n at 1 (docs/kimi.md §4.2): the client still gets its n answers."""
    before = len(gateway.emulator.requests())
    raw = _client(gateway).chat.completions.with_raw_response.create(
        model="kimi-k2.6", messages=ASK, n=2
    )
    reply = raw.parse()
    assert [(c.index, c.message.content) for c in reply.choices] == [
        (0, "one answer"),
        (1, "one answer"),
    ]
    assert [r["body"].get("n") for r in gateway.emulator.requests()[before:]] == [None, None]
    assert "fanned_out" in raw.headers["x-kimi-gateway-diagnostics"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_fanned_out_call_that_fails_fails_the_request(
    gateway_factory: Any, kimi_emulator_factory: Any, stream: bool
) -> None:
    """One of the n calls refused (Kimi's content filter, never retried): the client gets that
    error in its dialect, not fewer choices (the other call's reply is dropped)."""
    emulator = kimi_emulator_factory(faults=[{"kind": "content_filter", "every": 2}])
    gateway = gateway_factory(emulator=emulator)
    kwargs: dict[str, Any] = {"model": MODEL, "messages": ASK, "n": 2, "temperature": 0}
    with pytest.raises(openai.BadRequestError) as caught:  # before any byte, streams too
        _client(gateway).chat.completions.create(**kwargs, stream=stream)
    assert caught.value.status_code == 400
    [line] = gateway.access_log(wait_for=1)
    assert (line["status"], line["error"]) == (400, "content_filter")
    assert [r["status"] for r in emulator.requests()] == [200, 400]


def test_fan_out_of_one_body_replies(gateway_pool: Any) -> None:
    """``upstream_stream: match``: Kimi answers a non-streaming client's calls in one body each;
    the gateway joins them as choices."""
    gateway = gateway_pool.get(upstream_stream="match")
    before = len(gateway.emulator.requests())
    reply = _client(gateway).chat.completions.create(model=MODEL, messages=ASK, n=2, temperature=0)
    assert [(c.index, c.message.content) for c in reply.choices] == [
        (0, "one answer"),
        (1, "one answer"),
    ]
    sent = [r["body"] for r in gateway.emulator.requests()[before:]]
    assert [(b.get("n"), b.get("stream")) for b in sent] == [(None, None)] * 2


@pytest.mark.parametrize("stream", [False, True])
def test_each_choice_stops_at_a_stop_sequence_the_gateway_watches(
    gateway: GatewayServer, stream: bool
) -> None:
    """Six stop sequences (Kimi takes five, docs/kimi.md §5.1): the gateway watches the sixth in
    each answer, so each call has one choice and every choice stops where the client asked."""
    client = _client(gateway)
    before = len(gateway.emulator.requests())
    ask: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Write @@text:alpha beta gamma@@"}
    ]
    stops = ["s1", "s2", "s3", "s4", "s5", "beta"]
    kwargs: dict[str, Any] = {"model": MODEL, "messages": ask, "n": 2, "temperature": 0.7}
    texts: dict[int, str] = defaultdict(str)
    finishes: dict[int, str | None] = {}
    if stream:
        for chunk in client.chat.completions.create(**kwargs, stop=stops, stream=True):
            for choice in chunk.choices:
                texts[choice.index] += choice.delta.content or ""
                finishes[choice.index] = choice.finish_reason or finishes.get(choice.index)
    else:
        for c in client.chat.completions.create(**kwargs, stop=stops).choices:
            texts[c.index], finishes[c.index] = c.message.content or "", c.finish_reason
    assert (dict(texts), finishes) == ({0: "alpha ", 1: "alpha "}, {0: "stop", 1: "stop"})
    sent = [r["body"] for r in gateway.emulator.requests()[before:]]
    assert [(b.get("n"), b["stop"]) for b in sent] == [(None, stops[:5])] * 2
