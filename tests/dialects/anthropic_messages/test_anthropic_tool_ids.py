"""The reversible tool-id encoding (tool_ids.py): safe ids pass, others survive any client."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kimi_gateway.dialects.anthropic_messages.tool_ids import decode_tool_id, encode_tool_id

ANTHROPIC_ID = re.compile(r"[a-zA-Z0-9_-]+")
SAFE = st.text(alphabet="abcXYZ019_-", min_size=1)


def openclaw_rewrite(tool_id: str) -> str:
    """What OpenClaw does to every tool id it replays (docs/kimi.md §F1)."""
    return re.sub(r"[^A-Za-z0-9]", "", tool_id)


@pytest.mark.parametrize(
    ("original", "encoded"),
    [
        ("Bash:0", "kx426173683a30"),
        ("functions.Read:12", "kx66756e6374696f6e732e526561643a3132"),
        ("toolu_01AbC-x", "toolu_01AbC-x"),
        ("Bash_3", "Bash_3"),
        ("é", "kxc3a9"),
        ("", ""),
    ],
)
def test_known_ids_encode_and_decode(original: str, encoded: str) -> None:
    assert (encode_tool_id(original), decode_tool_id(encoded)) == (encoded, original)


@given(st.text())
def test_round_trip_on_arbitrary_strings(tool_id: str) -> None:
    # The one documented ambiguity: a client id that already is "kx" + hex of an unsafe string.
    if not (tool_id.startswith("kx") and decode_tool_id(tool_id) != tool_id):
        assert decode_tool_id(encode_tool_id(tool_id)) == tool_id


@given(st.text(min_size=1))
def test_encoded_ids_match_anthropics_pattern(tool_id: str) -> None:
    assert ANTHROPIC_ID.fullmatch(encode_tool_id(tool_id))


@given(st.text(min_size=1).filter(lambda s: not ANTHROPIC_ID.fullmatch(s)))
def test_encoded_ids_survive_openclaws_rewrite(tool_id: str) -> None:
    encoded = encode_tool_id(tool_id)
    assert openclaw_rewrite(encoded) == encoded
    assert decode_tool_id(openclaw_rewrite(encoded)) == tool_id


@given(SAFE)
def test_safe_ids_pass_unchanged_and_openclaw_rewrites_them_consistently(tool_id: str) -> None:
    assert encode_tool_id(tool_id) == tool_id
    rewritten = openclaw_rewrite(tool_id)
    if rewritten:  # the same rewrite on tool_use and tool_result keeps the pair matching
        assert decode_tool_id(rewritten) == rewritten
