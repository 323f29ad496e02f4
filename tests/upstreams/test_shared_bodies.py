"""A rendered Chat body shares its values with the request and each message's cached wire
dicts (dialects/openai_chat/request.py): every caller that fixes it up must copy what it
changes. Each caller in the tree, run over one request; the request and the next render are
the same bytes as before."""

from __future__ import annotations

import orjson

from kimi_gateway.core.model import (
    Message,
    OpenAIChatFields,
    Request,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.openai_chat.request import render_request
from kimi_gateway.upstreams.kimi.adapter import PLATFORM_GLOBAL, build_upstream_request
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.openai_compatible import PRESETS, render_for_host


def _request() -> Request:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    turn = Message(
        "assistant",
        (ThinkingPart("because"), ToolCallPart("call_1", "f", '{"a": "x"}')),
    )
    result = Message("user", (ToolResultPart("call_1", (TextPart(""),)),))
    return Request(
        "kimi-k2.6",
        (Message("user", (TextPart("hi"),)), turn, result, Message("assistant", ())),
        tools=(Tool("f", parameters=schema),),
        openai_chat=OpenAIChatFields(passthrough={"logit_bias": {"1": 2}}),
    )


def test_no_caller_changes_what_a_rendered_body_shares() -> None:
    request = _request()
    before = orjson.dumps(render_request(request))
    for profile in PRESETS.values():
        render_for_host(request, profile)
    for name in ("kimi-k2.6", "kimi-k3", "moonshot-v1-8k"):
        build_upstream_request(request, PLATFORM_GLOBAL, profile_for(name), QuirkPolicy())
    assert orjson.dumps(render_request(request)) == before
    assert request == _request()
