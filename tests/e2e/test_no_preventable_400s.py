"""Zero preventable Kimi 400s (issue 9): requests valid in the client's own API, OpenAI Chat
Completions or Anthropic Messages (strategies_openai.py, strategies_anthropic.py), go through a
real gateway to a real emulator, on every face: the Open Platform's OpenAI face and Anthropic
route, Kimi Code's two faces, and Anthropic clients translated to an OpenAI face (routes in
request_strategies.ROUTES).

The property, per request:
- never a 5xx, never an error event inside a stream;
- never a 4xx the emulator produced: a Kimi rule the gateway could have kept (a 4xx the
  gateway raised alone would mean the strategy made input its dialect refuses, or the gateway
  refuses valid input: a failure too);
- every adjustment visible: a sampling value Kimi received different from the client's carries
  the ``x-kimi-gateway-diagnostics`` header.

CI runs ``KIMI_PROPERTY_EXAMPLES`` (default 500) examples per dialect, derandomized; ``make
test-property`` runs more (``KIMI_PROPERTY_EXAMPLES=5000``), ``KIMI_PROPERTY_SEED`` picks a seed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from gateway_server import GatewayServer, settings_for, start_gateway
from hypothesis import HealthCheck, example, given, seed, settings
from request_strategies import DATA_URL, ROUTES
from strategies_anthropic import messages_bodies
from strategies_openai import chat_bodies

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.settings import ENV_NAMES

DIAGNOSTICS = "x-kimi-gateway-diagnostics"
EXAMPLES = int(os.environ.get("KIMI_PROPERTY_EXAMPLES", "500"))
SEED = os.environ.get("KIMI_PROPERTY_SEED") or None  # set: random from that seed
# The whole property is one test: pytest's 120 s per test would cut a long run (make
# test-property: about 30 ms an example). One request is bounded by the client's 60 s anyway.
WHOLE_RUN = pytest.mark.timeout(max(120, EXAMPLES // 10))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
# Client sampling fields whose value Kimi receives under the same name (OpenAI faces) — a
# different value there is an adjustment the client must be told of; leaving out OpenAI's
# default is no change.
_SAMPLING = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}


def _seeded(test: Any) -> Any:
    return seed(int(SEED))(test) if SEED is not None else test


@dataclass
class Stack:
    gateway: GatewayServer
    emulator: EmulatorServer
    http: httpx.Client


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as patch:
        for env_names in ENV_NAMES.values():
            for name in env_names:
                patch.delenv(name, raising=False)
        with EmulatorServer() as emulator:
            tmp = tmp_path_factory.mktemp("property")
            gateway = start_gateway(settings_for(emulator, tmp, routes=ROUTES), emulator)
            headers = {
                "authorization": "Bearer sk-client",
                "x-api-key": "sk-client",
                "content-type": "application/json",
            }
            with httpx.Client(base_url=gateway.url, timeout=60, headers=headers) as http:
                yield Stack(gateway, emulator, http)
            gateway.stop()


@dataclass
class Exchange:
    status: int
    text: str
    headers: httpx.Headers
    upstream: list[dict[str, Any]]  # the emulator's log entries for this request


def _forced_name(body: dict[str, Any]) -> str | None:
    """The tool a forced choice asks for (the first offered for "required"/"any"), or None."""
    choice = body.get("tool_choice", body.get("function_call"))
    offered = body.get("tools") or body.get("functions") or []
    if not offered or choice in (None, "auto", "none"):
        return None
    if isinstance(choice, dict) and choice.get("type") in ("auto", "none"):
        return None
    if isinstance(choice, dict):
        named = choice.get("name") or choice.get("function", {}).get("name")
        if named:
            return str(named)
    first = offered[0]
    return str(first.get("name") or first["function"]["name"])


def comply(body: dict[str, Any]) -> dict[str, Any]:
    """A forced tool choice the gateway cannot send as is becomes a request in words (a nudge,
    issue 9 item 4); a real model follows it, the emulator's scripted one only with its
    ``@@tool:…@@`` marker, so the last message not the assistant's (a prefill may follow)
    carries one: text Kimi reads as any other."""
    name = _forced_name(body)
    if name is None:
        return body
    body = orjson.loads(orjson.dumps(body))  # hypothesis may run the same example again
    marker = f" @@tool:{name} {{}}@@"
    last = next(m for m in reversed(body["messages"]) if m["role"] != "assistant")
    if isinstance(last.get("content"), str):
        last["content"] += marker
    elif isinstance(last.get("content"), list):
        last["content"].append({"type": "text", "text": marker})
    return body


def exchange(stack: Stack, path: str, body: dict[str, Any], *, obey: bool = True) -> Exchange:
    """One request and what the emulator saw of it; ``obey``: a model that follows a nudge."""
    stack.emulator.reset()
    body = comply(body) if obey else body
    extra = {"anthropic-version": "2023-06-01"} if path == "/v1/messages" else {}
    with stack.http.stream("POST", path, content=orjson.dumps(body), headers=extra) as reply:
        text = reply.read().decode()
    return Exchange(reply.status_code, text, reply.headers, stack.emulator.requests())


def _stream_errors(text: str) -> list[str]:
    """Error events inside a 200 stream (Anthropic ``event: error``, an OpenAI error chunk)."""
    found = []
    for line in text.splitlines():
        if line.startswith("event: error"):
            found.append(line)
        elif line.startswith("data: {") and '"error"' in line:
            data = orjson.loads(line[6:])
            if isinstance(data, dict) and "error" in data:
                found.append(line)
    return found


def problems(body: dict[str, Any], done: Exchange) -> list[str]:
    """What breaks the property for one request (empty: it holds)."""
    refused = [e for e in done.upstream if (e.get("status") or 0) >= 400]
    if done.status >= 500:
        return [f"{done.status} from the gateway: {done.text[:400]}"]
    if done.status >= 400:
        origin = "a Kimi-rule refusal (the emulator said {})" if refused else "the gateway's own"
        statuses = [e["status"] for e in refused]
        return [f"{done.status}, {origin.format(statuses)}: {done.text[:400]}"]
    found = [f"error in the stream: {line[:300]}" for line in _stream_errors(done.text)]
    found.extend(_silent_adjustments(body, done))
    return found


def _silent_adjustments(body: dict[str, Any], done: Exchange) -> list[str]:
    sent = [e["body"] for e in done.upstream if isinstance(e.get("body"), dict)]
    if not sent or DIAGNOSTICS in done.headers or "messages" not in sent[0]:
        return []
    upstream = sent[0]
    if done.upstream[0]["path"].endswith("/messages"):
        return []  # an Anthropic face: other names (the dialect's own tests cover them)
    changed = [
        f"{key}: {body[key]!r} became {upstream.get(key)!r}"
        for key, default in _SAMPLING.items()
        if key in body and upstream.get(key, default) != body[key]
    ]
    return [f"adjusted without a diagnostic: {'; '.join(changed)}"] if changed else []


def _check(stack: Stack, path: str, body: dict[str, Any]) -> None:
    done = exchange(stack, path, body)
    found = problems(body, done)
    assert not found, "\n".join([*found, "request: " + orjson.dumps(body).decode()[:3000]])


# A forced call on a nudged model whose reply the gateway cut at the client's stop sequence
# (one Kimi could not take): the cut reply is the answer, not a 502 after a useless re-ask.
STOP_BEFORE_FORCED_CALL = {
    "model": "via-platform/moonshot-v1-8k",
    "max_tokens": 100,
    "tools": [{"name": "A", "input_schema": {"type": "object", "properties": {}}}],
    "tool_choice": {"type": "any"},
    "messages": [
        {"role": "user", "content": "?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_0", "name": "A", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_0", "content": "?"}],
        },
    ],
    "stop_sequences": ["A", "B", "C", "D", "E", "?"],
}


# Thinking turned off for a forced named tool on Kimi Code (not a nudge): the engine checks
# that reply too, so the gateway watches the stop sequences there as well.
STOP_BEFORE_CHECKED_CALL = {
    "model": "via-code-anthropic/kimi-for-coding",
    "tools": [{"type": "function", "function": {"name": "A", "parameters": {"type": "object"}}}],
    "tool_choice": {"type": "function", "function": {"name": "A"}},
    "messages": [
        {"role": "user", "content": "?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": "A", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "?"},
    ],
    "stop": "?",
    "stream": True,
}


@WHOLE_RUN
@PROPERTY
@_seeded
@given(body=chat_bodies())
@example(body=STOP_BEFORE_CHECKED_CALL)
def test_openai_chat_requests_never_meet_a_preventable_kimi_400(
    stack: Stack, body: dict[str, Any]
) -> None:
    _check(stack, "/v1/chat/completions", body)


@WHOLE_RUN
@PROPERTY
@_seeded
@given(body=messages_bodies())
@example(body=STOP_BEFORE_FORCED_CALL)
@example(body={**STOP_BEFORE_FORCED_CALL, "stream": True})
def test_anthropic_messages_requests_never_meet_a_preventable_kimi_400(
    stack: Stack, body: dict[str, Any]
) -> None:
    _check(stack, "/v1/messages", body)


def test_an_image_to_a_model_without_image_input_is_the_gateways_clear_400(stack: Stack) -> None:
    """kimi-k2.7-code documents no image input (docs/kimi.md §4.1): the gateway says so,
    naming the part, instead of passing the image on to Kimi's 400."""
    image = {"type": "image_url", "image_url": {"url": DATA_URL}}
    content = [{"type": "text", "text": "Look."}, image]
    body = {"model": "kimi-k2.7-code", "messages": [{"role": "user", "content": content}]}
    done = exchange(stack, "/v1/chat/completions", body)
    assert done.status == 400, done.text
    error = orjson.loads(done.text)["error"]
    assert error["param"] == "messages[0].content[1]"
    assert "image" in error["message"]
    assert done.upstream == []


def test_max_tokens_at_the_context_window_is_not_a_kimi_400(stack: Stack) -> None:
    system = {"role": "system", "content": "What is the weather in Paris? Answer in JSON."}
    body = {
        "model": "moonshot-v1-8k",
        "messages": [system, {"role": "user", "content": "hi"}],
        "max_tokens": 8192,
    }
    done = exchange(stack, "/v1/chat/completions", body)
    assert problems(body, done) == []
    # Refused once, counted by Kimi's estimate, sent again fitted (upstreams/kimi/context_fit.py).
    paths = [e["path"].rsplit("/", 1)[-1] for e in done.upstream]
    assert paths == ["completions", "estimate-token-count", "completions"], paths
    counted = done.upstream[1]["body"]
    assert "sent again as" in done.headers[DIAGNOSTICS]
    assert counted["messages"]
    assert done.upstream[2]["body"]["max_completion_tokens"] < 8192


def test_max_tokens_at_the_context_window_on_kimi_code_is_fitted_by_the_estimate(
    stack: Stack,
) -> None:
    """Kimi Code has no token-count endpoint: the gateway's high estimate fits the retry."""
    body = {
        "model": "via-code-anthropic/kimi-for-coding",
        "max_tokens": 262144,
        "messages": [{"role": "user", "content": "What is the weather in Paris? " * 20}],
    }
    done = exchange(stack, "/v1/messages", body)
    assert problems(body, done) == []
    assert done.upstream[0]["status"] == 400
    assert "the gateway's high estimate" in done.headers[DIAGNOSTICS]


@pytest.mark.parametrize(
    ("max_tokens", "system"),
    [(8160, "A"), (8151, "What is the weather in Paris? Answer in JSON.")],
)
def test_an_anthropic_face_that_counts_more_than_the_estimate_is_fitted_too(
    stack: Stack, max_tokens: int, system: str
) -> None:
    """The Open Platform's Anthropic face counts a prompt higher than its token-estimate
    endpoint does: the retry leaves a margin over the count for the face's own template."""
    body = {
        "model": "moonshot-v1-8k",
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": "A"}, {"type": "text", "text": system}],
        "messages": [
            {"role": "user", "content": "What is the weather in Paris? Answer in JSON."},
            {"role": "assistant", "content": "?"},
        ],
        "stream": True,
    }
    done = exchange(stack, "/v1/messages", body)
    assert problems(body, done) == []
    assert "sent again as" in done.headers[DIAGNOSTICS]


def test_a_prompt_over_the_context_window_is_kimis_refusal_and_not_retried(stack: Stack) -> None:
    body = {
        "model": "moonshot-v1-8k",
        "messages": [{"role": "user", "content": "word " * 40000}],
        "max_tokens": 100,
    }
    done = exchange(stack, "/v1/chat/completions", body)
    assert done.status == 400, done.text
    assert len(done.upstream) == 1


@pytest.mark.parametrize("content", ["", " ", [{"type": "text", "text": ""}]])
def test_an_empty_user_message_is_not_a_kimi_400(stack: Stack, content: Any) -> None:
    """Valid for OpenAI, refused by Kimi ("must not be empty", docs/kimi.md §5.1): sent as
    ``quirks.empty_user_message_text``, and the client is told."""
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": content}]}
    done = exchange(stack, "/v1/chat/completions", body)
    assert problems(body, done) == []
    assert "filled_empty_message" in done.headers[DIAGNOSTICS]
    assert done.upstream[0]["body"]["messages"] == [{"role": "user", "content": "(empty)"}]


@pytest.mark.parametrize("model", ["moonshot-v1-128k", "via-code-anthropic/kimi-k2.7"])
def test_n_with_a_nudged_forced_tool_is_re_asked_fanned_out(stack: Stack, model: str) -> None:
    """n > 1 with a forced tool choice the gateway nudges, and a model that ignores the nudge:
    the re-ask is fanned out like the first call (n answers), so the client gets the forced
    call's own error, not Kimi's one-answer rule as the gateway's 400."""
    tool = {"type": "function", "function": {"name": "A", "parameters": {"type": "object"}}}
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "?"}],
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "A"}},
        "n": 2,
    }
    done = exchange(stack, "/v1/chat/completions", body, obey=False)
    assert done.status == 502, done.text
    assert "answered without calling it 2 time(s)" in done.text
    assert len(done.upstream) == 4  # two calls, each asked twice


def test_a_stop_sequence_before_a_nudged_forced_call_is_not_a_502(stack: Stack) -> None:
    tools = [{"name": n, "input_schema": {"type": "object", "properties": {}}} for n in "AB"]
    call = {"type": "tool_use", "id": "toolu_0", "name": "A", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_0", "content": "?", "is_error": True}
    body = {
        "model": "moonshot-v1-8k",
        "max_tokens": 7,
        "tools": tools,
        "tool_choice": {"type": "tool", "name": "A"},
        "messages": [
            {"role": "user", "content": "?"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ],
        "stop_sequences": ["?"],
    }
    done = exchange(stack, "/v1/messages", body)
    assert problems(body, done) == []
