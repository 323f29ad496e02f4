"""Golden SSE transcripts of the served POST /v1/responses, byte for byte: what the gateway
writes for text, reasoning with sealed content, a tool call, web search rounds and a stream that
fails. The gateway's random parts (response id, item ids built from it, creation time, the
sealed token under a per-data-dir key) are replaced by fixed words before comparing; everything
else is exact. `KGW_UPDATE_GOLDEN=1` rewrites the files (review the diff)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from gateway_server import GatewayServer
from test_responses import EXEC

GOLDEN = Path(__file__).parent / "golden_responses"
CASES: dict[str, dict[str, Any]] = {
    "text": {"input": "@@text:Hello there@@", "reasoning": {"effort": "none"}},
    "reasoning_sealed": {
        "input": "@@thinking@@ @@text:Hi@@",
        "include": ["reasoning.encrypted_content"],
        "store": False,
    },
    "function_call": {
        "input": '@@tool:exec_command {"cmd":"ls"}@@',
        "tools": [EXEC],
        "reasoning": {"effort": "none"},
    },
    "web_search": {
        "input": '@@tool:$web_search {"query":"kimi"}@@',
        "tools": [{"type": "web_search"}],
        "reasoning": {"effort": "none"},
    },
    "failed": {"input": "@@text:a b c d e f@@ @@cut@@", "reasoning": {"effort": "none"}},
}
_MASKS = (
    (re.compile(rb"resp_[0-9a-f]{48}"), b"resp_ID"),
    (re.compile(rb"\b(rs|msg|fc|ws)_[0-9a-f]{48}_"), rb"\1_ID_"),
    (re.compile(rb'"created_at":\d+'), b'"created_at":0'),
    (re.compile(rb"kgw1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), b"kgw1.SEALED"),
)


def masked(data: bytes) -> bytes:
    for pattern, replacement in _MASKS:
        data = pattern.sub(replacement, data)
    return data


@pytest.mark.parametrize("name", sorted(CASES))
def test_served_stream_matches_its_golden_transcript(gateway: GatewayServer, name: str) -> None:
    body = {"model": "kimi-k2.6", "stream": True, **CASES[name]}
    with httpx.stream("POST", gateway.openai_url + "/responses", json=body, timeout=30) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
        data = masked(reply.read())
    path = GOLDEN / f"{name}.sse"
    if os.environ.get("KGW_UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert data == path.read_bytes()
    events = [block for block in data.split(b"\n\n") if block]
    numbers = [orjson.loads(block.split(b"\ndata: ")[1])["sequence_number"] for block in events]
    assert numbers == list(range(len(events)))
