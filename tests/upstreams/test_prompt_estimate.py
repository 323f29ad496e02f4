"""The prompt estimate that drives the max_tokens clamp (issue 9 item 8 and "tests that pin the
edges"): tools with their descriptions, K3's dynamic tools, tool-call parts and tool results
all count, and a request that fits the window keeps its max_tokens."""

from __future__ import annotations

from kimi_gateway.core.model import Message, TextPart, Tool, ToolCallPart, ToolResultPart
from kimi_gateway.upstreams.kimi.quirks_sampling import estimate_prompt_tokens, set_max_tokens

from .canonical import ctx, request, user

CALL = ToolCallPart("f:0", "f", '{"q":"x"}')
SCHEMA = {"type": "object"}  # str(): "{'type': 'object'}", 18 characters


def test_tools_descriptions_and_calls_count() -> None:
    bare = request("kimi-k2.6", user("abcdef"), system=(TextPart("abc"),))
    assert estimate_prompt_tokens(bare) == (3 + 6) // 3 + 16 + 8 * 2
    turn = Message("assistant", (CALL,))
    result = Message("user", (ToolResultPart("f:0", (TextPart("result"),)),))
    full = request(
        "kimi-k2.6",
        user("abcdef"),
        turn,
        result,
        system=(TextPart("abc"),),
        tools=(Tool("f", description="desc", parameters=SCHEMA),),
    )
    chars = 3 + 6 + len(str(CALL)) + len("result") + 18 + len("desc")
    assert estimate_prompt_tokens(full) == chars // 3 + 16 + 8 * 4 + 16


def test_dynamic_tools_count_like_the_requests_own() -> None:
    dynamic = Message("system", (), tools=(Tool("g", description="desc", parameters=SCHEMA),))
    with_dynamic = request("kimi-k3", user("abcdef"), dynamic)
    declared = request("kimi-k3", user("abcdef"), Message("system", ()), tools=dynamic.tools)
    assert estimate_prompt_tokens(with_dynamic) == estimate_prompt_tokens(declared)
    assert estimate_prompt_tokens(with_dynamic) == (6 + 18 + 4) // 3 + 16 + 8 * 3 + 16


def test_a_request_that_fits_keeps_its_max_tokens() -> None:
    # About 4,800 real tokens and 2,048 to write: fits 8,192, so it is not cut although
    # the high estimate (characters / 3) would put the prompt at 8,000.
    fits = request("moonshot-v1-8k", user("word " * 4800), max_tokens=2048)
    assert set_max_tokens(fits, ctx("moonshot-v1-8k")) == fits
