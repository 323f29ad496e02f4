"""What tests/dialects/*/test_parse_memo.py check beyond the parse: what is derived from a
message is kept with the message object (core/model.py ``derived``) and the message memo hands
the same objects back turn after turn, so a session's upstream bodies built from memoised
messages must be the bytes built from a fresh parse (issue 15 item 3: "proven equal to the
canonical path"). Each turn is built for Kimi's OpenAI face (thinking on: the reasoning
placeholder; and a model without thinking) and its Anthropic faces; errors included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Request
from kimi_gateway.core.records import replace
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.upstreams.kimi.adapter import SURFACES, build_upstream_request
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for

TARGETS = (
    ("platform", "kimi-k2.6"),
    ("platform", "moonshot-v1-8k"),
    ("platform-anthropic", "kimi-k2.6"),
    ("kimi-code-anthropic", "kimi-for-coding"),
)
Parse = Callable[..., Request]


def _built(parse: Parse, body: dict[str, Any], memo: MessageMemo | None) -> list[Any]:
    try:
        request = parse(body, memo=memo)
    except GatewayError as exc:
        return [("error", str(exc), exc.param)]
    out: list[Any] = []
    for name, model in TARGETS:
        surface = SURFACES[name]
        profile = profile_for(model, product=surface.product)
        try:
            call = build_upstream_request(
                replace(request, model=model), surface, profile, QuirkPolicy()
            )
        except GatewayError as exc:
            out.append(("error", name, str(exc), exc.param))
            continue
        out.append((name, orjson.dumps(call.body), call.diagnostics, call.enforce_stop))
    return out


def same_bodies_with_the_memo(
    parse: Parse, first: list[Any], steps: list[Any], memo_bytes: int, advance: Any
) -> None:
    """Every turn of the session, built with the memo and without: equal, twice over."""
    memo: MessageMemo = BytesLRU(memo_bytes)
    messages = first
    for step in [("append", []), *steps]:
        messages = advance(messages, step)
        body = orjson.loads(orjson.dumps({"model": "m", "max_tokens": 64, "messages": messages}))
        assert _built(parse, body, memo) == _built(parse, body, None)
        assert _built(parse, body, memo) == _built(parse, body, None)  # now from the memo
