"""foreign_thinking: unsigned, the default (issue 15 item 5; docs/kimi.md §12, §13.3): a thinking
block whose signature this process did not issue (Claude's, or Kimi's own from before a restart
or from another replica) keeps its text and loses only the signature, so the history Kimi reads,
and its prefix cache, stay the same whichever process serves the turn."""

from __future__ import annotations

from kimi_gateway.core.model import Diagnostic, Message, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.upstreams.kimi.policy import QuirkContext, QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.quirks_thinking import drop_foreign_thinking
from kimi_gateway.upstreams.kimi.signatures import IssuedSignatures

from .canonical import request


def test_unknown_signatures_are_removed_and_the_text_kept() -> None:
    issued = IssuedSignatures(10)
    issued.add("kimi-sig")
    own = ThinkingPart("mine", signature="kimi-sig")
    earlier = ThinkingPart("mine, before a restart", signature="kimi-sig-of-another-process")
    redacted = ThinkingPart("", redacted=True, provider_data={"data": "Emw"})
    call = ToolCallPart("t1", "get_weather", "{}")
    history = (
        Message("user", (TextPart("q"),)),
        Message("assistant", (own, earlier, redacted, call)),
    )
    profile = profile_for("kimi-for-coding", product="kimi_code")
    ctx = QuirkContext(profile, QuirkPolicy(), "anthropic_messages", signature_issued=issued.issued)
    fixed = drop_foreign_thinking(request("kimi-for-coding", *history), ctx)
    assert fixed.messages[1].parts == (own, ThinkingPart("mine, before a restart"), call)
    assert fixed.diagnostics == (
        Diagnostic(
            "unsigned_thinking", "signatures Kimi did not issue were removed in messages[1]"
        ),
    )


def test_a_resent_history_is_checked_against_the_signatures_issued_now() -> None:
    """The messages that carry signed or redacted thinking are kept for a history
    (core/history.py); whether each signature is Kimi's is asked every turn."""
    issued = IssuedSignatures(10)
    signed = ThinkingPart("mine", signature="kimi-sig")
    redacted = ThinkingPart("", redacted=True, provider_data={"data": "Emw"})
    turns = [Message("user", (TextPart(f"q{i}"),)) for i in range(4)]
    history = (
        turns[0],
        Message("assistant", (signed, TextPart("a"))),
        turns[1],
        Message("assistant", (redacted, TextPart("b"))),
        turns[2],
    )
    profile = profile_for("kimi-for-coding", product="kimi_code")
    ctx = QuirkContext(profile, QuirkPolicy(), "anthropic_messages", signature_issued=issued.issued)
    first = drop_foreign_thinking(request("kimi-for-coding", *history), ctx)
    assert first.messages[1].parts == (ThinkingPart("mine"), TextPart("a"))
    assert first.messages[3].parts == (TextPart("b"),)
    issued.add("kimi-sig")  # now known: the kept history is asked again, and keeps it
    second = drop_foreign_thinking(request("kimi-for-coding", *history, turns[3]), ctx)
    assert second.messages[1].parts == (signed, TextPart("a"))
    assert second.messages[3].parts == (TextPart("b"),)
