"""IssuedSignatures and drop_foreign_thinking (issue 9 item 7, docs/kimi.md §13.3, §F2.6):
which thinking blocks a Kimi Anthropic face gets back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kimi_gateway.core.events import Done, PartEnd, PartStart, SignatureDelta, ThinkingDelta
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.upstream import Batch, Opened
from kimi_gateway.core.usage import Usage
from kimi_gateway.upstreams.kimi.policy import QuirkContext, QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.quirks_thinking import drop_foreign_thinking
from kimi_gateway.upstreams.kimi.signatures import IssuedSignatures

from .canonical import request


def test_the_oldest_signature_goes_first() -> None:
    issued = IssuedSignatures(2)
    for signature in ("a", "b", "c"):
        issued.add(signature)
    assert [issued.issued(s) for s in ("a", "b", "c", "")] == [False, True, True, False]
    nothing = IssuedSignatures(0)
    nothing.add("a")
    assert not nothing.issued("a")


@pytest.mark.anyio
async def test_a_streamed_signature_is_noted_when_its_part_ends() -> None:
    async def rest() -> AsyncIterator[Batch]:
        yield [SignatureDelta(0, "-two"), PartEnd(0)]
        yield [Done()]

    issued = IssuedSignatures(10)
    first: Batch = [PartStart(0, "thinking"), ThinkingDelta(0, "x"), SignatureDelta(0, "one")]
    opened = issued.record(Opened("up", "m", None, (), first=first, rest=rest()))
    assert not issued.issued("one-two")
    assert [batch async for batch in opened.rest] == [
        [SignatureDelta(0, "-two"), PartEnd(0)],
        [Done()],
    ]
    assert issued.issued("one-two")


def test_a_whole_reply_is_noted_at_once() -> None:
    issued = IssuedSignatures(10)
    parts = (ThinkingPart("x", signature="sig"), TextPart("hi"))
    reply = Response("r", "m", parts, stop_reason="end_turn", usage=Usage())
    issued.record(Opened("up", "m", None, (), complete=reply))
    assert issued.issued("sig")


def _history(*thinking: ThinkingPart) -> tuple[Message, ...]:
    call = ToolCallPart("t1", "get_weather", "{}")
    return (Message("user", (TextPart("q"),)), Message("assistant", (*thinking, call)))


def _ctx(policy: QuirkPolicy, issued: IssuedSignatures | None) -> QuirkContext:
    profile = profile_for("kimi-for-coding", product="kimi_code")
    check = None if issued is None else issued.issued
    return QuirkContext(profile, policy, "anthropic_messages", signature_issued=check)


def test_only_blocks_kimi_did_not_sign_are_dropped() -> None:
    issued = IssuedSignatures(10)
    issued.add("kimi-sig")
    own = ThinkingPart("mine", signature="kimi-sig")
    unsigned = ThinkingPart("replayed by Claude Code", signature="")
    claude = ThinkingPart("Claude's", signature="EqQBCkgIBRAB")
    redacted = ThinkingPart("", redacted=True, provider_data={"data": "Emw"})
    raw = request("kimi-for-coding", *_history(own, unsigned, claude, redacted))
    fixed = drop_foreign_thinking(raw, _ctx(QuirkPolicy(foreign_thinking="drop"), issued))
    assert fixed.messages[1].parts[:2] == (own, unsigned)
    assert len(fixed.messages[1].parts) == 3
    assert fixed.diagnostics == (
        Diagnostic(
            "dropped_thinking", "thinking blocks Kimi did not sign were dropped from messages[1]"
        ),
    )


def test_kept_by_setting_on_the_openai_faces_and_without_a_memory() -> None:
    claude = ThinkingPart("Claude's", signature="EqQBCkgIBRAB")
    raw = request("kimi-for-coding", *_history(claude))
    issued = IssuedSignatures(10)
    keep = QuirkPolicy(foreign_thinking="keep")
    assert drop_foreign_thinking(raw, _ctx(keep, issued)) == raw
    assert drop_foreign_thinking(raw, _ctx(QuirkPolicy(), None)) == raw
    openai = QuirkContext(profile_for("kimi-k2.6"), QuirkPolicy(), "openai_chat")
    assert drop_foreign_thinking(raw, openai) == raw
