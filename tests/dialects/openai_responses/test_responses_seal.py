"""Sealed reasoning: a ThinkingPart survives the round trip exactly, and nothing that was not
sealed by the same key is ever trusted (tampered, another key, another server's, a zip bomb)."""

from __future__ import annotations

import base64
import zlib

import pytest

from kimi_gateway.core.model import ThinkingPart
from kimi_gateway.dialects.openai_responses import parse_request
from kimi_gateway.dialects.openai_responses.seal import PREFIX, Sealer

KEY = b"k" * 32
PART = ThinkingPart(
    "Let me think.\n\nDone.",
    signature="sig-bytes==",
    provider_data={"reasoning_details": [{"type": "reasoning.text", "text": "x"}], "id": "rs_1"},
)


def test_round_trip_keeps_text_signature_and_kimi_data() -> None:
    token = Sealer(KEY).seal(PART)
    assert token.startswith(PREFIX)
    assert Sealer(KEY).unseal(token) == ThinkingPart(
        PART.text,
        signature="sig-bytes==",
        provider_data={"reasoning_details": [{"type": "reasoning.text", "text": "x"}]},
    )
    redacted = ThinkingPart("", redacted=True, provider_data={"data": "opaque"})
    assert Sealer(KEY).unseal(Sealer(KEY).seal(redacted)) == redacted


@pytest.mark.parametrize(
    "token",
    [
        "",
        "gAAAAABl-openai-encrypted",
        PREFIX + "abc",
        PREFIX + "abc.def",
    ],
)
def test_foreign_or_malformed_tokens_are_not_trusted(token: str) -> None:
    assert Sealer(KEY).unseal(token) is None


def test_tampering_or_another_key_fails() -> None:
    token = Sealer(KEY).seal(PART)
    signed, _, tag = token.rpartition(".")
    body = base64.urlsafe_b64decode(signed[len(PREFIX) :] + "==")
    forged = (
        PREFIX
        + base64.urlsafe_b64encode(zlib.compress(zlib.decompress(body).replace(b"think", b"THINK")))
        .rstrip(b"=")
        .decode()
    )
    assert Sealer(KEY).unseal(f"{forged}.{tag}") is None
    assert Sealer(b"o" * 32).unseal(token) is None


def test_a_zip_bomb_is_refused_even_with_a_valid_tag() -> None:
    sealer = Sealer(KEY)
    bomb = PREFIX + base64.urlsafe_b64encode(zlib.compress(b"[" * (20 * 1024 * 1024))).decode()
    tag = sealer._tag(bomb)  # a token the key holder made: still bounded
    assert sealer.unseal(f"{bomb}.{tag}") is None


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Sealer(b"short")


def test_parse_prefers_the_sealed_part_and_reports_an_unverified_one() -> None:
    sealer = Sealer(KEY)
    item = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "edited by the client"}],
        "encrypted_content": sealer.seal(ThinkingPart("what Kimi said")),
    }
    body = {"model": "m", "input": [item, {"role": "assistant", "content": "hi"}]}
    (message,) = parse_request(body, unseal=sealer.unseal).messages
    assert message.parts[0].text == "what Kimi said"  # type: ignore[union-attr]
    other = parse_request(body, unseal=Sealer(b"o" * 32).unseal)
    assert other.messages[0].parts[0].text == "edited by the client"  # type: ignore[union-attr]
    assert [d.code for d in other.diagnostics] == ["unverified_reasoning"]
