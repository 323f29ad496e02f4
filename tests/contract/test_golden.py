"""Golden SSE transcripts: the exact bytes a streaming client receives on each pair, for a plain
text reply, a thinking turn with a tool call, parallel tool calls and a stream cut mid-way.

Only what changes between runs is normalised (message ids and ``created``); everything else,
signatures and tool ids included, must match byte for byte. Regenerate after an intended change
with ``UPDATE_GOLDEN=1 pytest tests/contract/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .case_model import Case
from .cases import CASES_BY_NAME, CUT_MID_STREAM
from .pipeline import PAIRS, Pair, Runner, run

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "plain_text": CASES_BY_NAME["plain_text"],
    "thinking_tool_call": CASES_BY_NAME["thinking_tools"],  # its first turn
    "parallel_tool_calls": CASES_BY_NAME["parallel_tool_calls"],
    "cut_mid_stream": CUT_MID_STREAM,
}
_IDS = (
    (re.compile(rb"chatcmpl-[0-9a-f]+"), b"chatcmpl-ID"),
    (re.compile(rb"msg_[0-9a-f]{16,}"), b"msg_ID"),
    (re.compile(rb'"created":[1-9][0-9]*'), b'"created":1700000000'),
)


def normalise(sse: bytes) -> bytes:
    for pattern, replacement in _IDS:
        sse = pattern.sub(replacement, sse)
    return sse


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
@pytest.mark.parametrize("name", CASES)
def test_golden_transcript(
    kimi_emulator: EmulatorServer, http: Runner, name: str, pair: Pair
) -> None:
    case: Case = CASES[name]
    kimi_emulator.reset()
    outcome = run(kimi_emulator, http, pair, case.request(case.turns[0].messages), stream=True)
    assert outcome.sse is not None
    got = normalise(outcome.sse)
    path = GOLDEN / f"{name}.{pair.id}.sse"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(got)
    assert path.exists(), f"no golden transcript {path.name}: run with UPDATE_GOLDEN=1"
    assert got == path.read_bytes()
